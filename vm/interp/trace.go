package interp

import "github.com/bpfhost/bpfhost/vm"

// Traced runs (vm.RunContext.Trace). The hot loop runs straight-line code
// without a check between instructions, and must stay that way for untraced
// runs (docs/decisions/0002-interpreter-dispatch.md). A traced run instead
// executes one instruction per visit to the hot loop: before each visit it
// reports the instruction to the hook and puts a trap on every instruction
// that can follow it, so that the hot loop hands control back right after
// it. The traps go into a private copy of the code, made per traced run, so
// that untraced runs of the same executable, on other goroutines, never see
// them. Budgets and results are those of an untraced run.

// opTrap is the internal opcode of a trapped instruction: the hot loop
// hands it to the driver, which continues with the next step. isa.Validate
// rejects it, so it never collides with a real instruction.
const opTrap = 0xfe

// hotStepped is the hot loop's result for a traced step that ran its
// instruction and stopped at the next one.
const hotStepped = -1

// traced returns a copy of e for one traced run, with its own code.
func (e *executable) traced(trace func(vm.Executable, int, *[11]uint64)) *executable {
	t := *e
	t.code = append([]insn(nil), e.code...)
	t.trace = trace
	t.orig = e
	return &t
}

// step reports the instruction at m.pc to the trace hook and runs it alone
// in the hot loop. It returns the hot loop's result, or hotStepped when the
// instruction ran and control stopped at its successor, which the next step
// reports.
//
//go:norace
func (e *executable) step(m *machine, budget uint64, checked bool) int {
	pc := m.pc
	e.trace(e.orig, pc, (*[11]uint64)(m.r[:11]))
	// Every instruction that can follow: the next ones (lddw skips one) and
	// a jump's target. Extra traps are harmless, as the run stops at the
	// first trap it meets. An instruction that jumps to itself gets none:
	// it changes nothing, so its repetitions need no report.
	var at [3]int
	var op [3]uint8
	n := 0
	arm := func(s int) {
		if s == pc || s < 0 || s >= len(e.code) {
			return
		}
		at[n], op[n] = s, e.code[s].op
		e.code[s].op = opTrap
		n++
	}
	in := e.code[pc]
	arm(pc + 1)
	if in.op == ld|dw {
		arm(pc + 2)
	}
	if c := in.op & 0x07; (c == jmp || c == jmp32) && in.op&0xf0 != 0x80 && in.op&0xf0 != 0x90 {
		arm(int(in.off))
	}
	res := e.hot(m, budget, checked)
	for i := n - 1; i >= 0; i-- {
		e.code[at[i]].op = op[i]
	}
	if res == hotSlow && m.pc != pc {
		return hotStepped
	}
	return res
}
