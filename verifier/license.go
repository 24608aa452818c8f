package verifier

// Linux's license rules: a program whose license is not GPL-compatible
// (Options.NotGPL) may not call a GPL-only helper (check_helper_call:
// "cannot call GPL-restricted function from non-GPL compatible program")
// nor read a kernel object through a BTF pointer (check_ptr_to_btf_access:
// "Cannot access kernel 'struct X' from non-GPL compatible program"). The
// refusal is Linux's policy, not a safety property, and bpfhost keeps it
// so that a program it accepts is one Linux accepts.

// gplOnly refuses, in a program that is not GPL-compatible, what is.
func (e *exec) gplOnly(pc int, format string, args ...any) {
	if e.a.opts.NotGPL {
		e.fail(pc, format+" from a program whose license is not GPL-compatible", args...)
	}
}
