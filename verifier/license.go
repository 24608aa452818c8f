package verifier

// Linux's rules on who may call what, beyond the program type's helper
// set. The license: a program whose license is not GPL-compatible
// (Options.NotGPL) may not call a GPL-only helper (check_helper_call:
// "cannot call GPL-restricted function from non-GPL compatible program")
// nor read a kernel object through a BTF pointer (check_ptr_to_btf_access:
// "Cannot access kernel 'struct X' from non-GPL compatible program"). The
// refusal is Linux's policy, not a safety property, and bpfhost keeps it
// so that a program it accepts is one Linux accepts. Sleeping: only a
// sleepable program may call a helper that may sleep.

// gplOnly refuses, in a program that is not GPL-compatible, what is.
func (e *exec) gplOnly(pc int, format string, args ...any) {
	if e.a.opts.NotGPL {
		e.fail(pc, format+" from a program whose license is not GPL-compatible", args...)
	}
}

// mightSleep refuses, in a program that is not sleepable (Options.Sleepable),
// a call of a helper that may sleep, as Linux's check_helper_call does
// ("helper call might sleep in a non-sleepable prog").
func (e *exec) mightSleep(pc int, name string) {
	if !e.a.opts.Sleepable {
		e.fail(pc, "helper %s may sleep: only sleepable programs (sections such as uprobe.s, fentry.s, lsm.s) may call it", name)
	}
}
