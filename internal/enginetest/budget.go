package enginetest

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost/vm"
)

const (
	// endless never exits.
	endless = "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit"
	// counted runs 2 + 10 iterations of 3 + 1 exit = 33 instructions.
	counted = "mov %r0, 0\nmov %r1, 10\nloop:\nadd %r0, 1\nsub %r1, 1\njne %r1, 0, loop\nexit"
	// long runs 3 + 3,000,000 iterations of 3 + 1 exit instructions, past
	// any chunk an engine may count the budget in (the JIT's is 2^20).
	long = "mov %r0, 0\nlddw %r1, 3000000\nloop:\nadd %r0, 2\nsub %r1, 1\njne %r1, 0, loop\nexit"
	// deepCalls calls at depths 1 and 2 200,000 times: its 13-instruction
	// iteration does not divide 2^20, so chunks end at calls and returns at
	// every depth.
	deepCalls = `
	lddw %r6, 200000
	mov %r7, 0
loop:
	mov %r1, %r6
	call local f
	add %r7, %r0
	sub %r6, 1
	jne %r6, 0, loop
	mov %r0, %r7
	exit
f:
	call local g
	add %r0, 1
	exit
g:
	mov %r0, %r1
	and %r0, 7
	exit`
)

// budgetPrograms are swept through every small budget: jumps, local calls,
// returns and helper calls (BenchHelpers: helper 1 adds r1 and r2).
var budgetPrograms = []string{
	endless, counted,
	"mov %r0, 0\nmov %r6, 5\nloop:\ncall local f\nsub %r6, 1\njne %r6, 0, loop\nexit\nf:\nadd %r0, 1\njgt %r0, 100, +1\nexit\nmov %r0, 0\nexit",
	"mov %r0, 3\njeq %r0, 3, +1\nexit\nmov %r1, 1\nja +0\nadd %r0, %r1\njne %r0, 3, +1\nexit\nexit",
	"mov %r1, 1\nmov %r2, 2\ncall 1\nmov %r6, 4\nloop:\ncall 1\nsub %r6, 1\njsgt %r6, 0, loop\nexit",
}

// Budget checks the instruction budget: runaway programs stop at the
// instruction where it runs out, counts are exact, a budget equal to the
// need is enough, and a smaller one either stops the run, having executed
// more than the budget but no more than the whole run would, or (noticed
// late) lets it end as it would have.
func Budget(t *testing.T, e vm.Engine) {
	rc := &vm.RunContext{Budget: 1000}
	_, err := compile(t, e, endless, vm.Trusted, nil).Run(rc)
	var ee *vm.ExecError
	if !errors.Is(err, vm.ErrBudgetExceeded) || !errors.As(err, &ee) || ee.PC != 2 {
		t.Errorf("endless: err = %v, want budget exceeded at instruction 2", err)
	}
	if rc.Executed < 1000 || rc.Executed > 1002 {
		t.Errorf("endless: executed %d instructions with a budget of 1000", rc.Executed)
	}

	exe := compile(t, e, counted, vm.Trusted, nil)
	rc = &vm.RunContext{}
	if _, err := exe.Run(rc); err != nil || rc.Executed != 2+30+1 {
		t.Errorf("counted: executed %d, %v; want 33", rc.Executed, err)
	}
	rc = &vm.RunContext{Budget: 33}
	if _, err := exe.Run(rc); err != nil {
		t.Errorf("counted, budget 33: %v", err)
	}

	for _, src := range budgetPrograms {
		exe := compile(t, e, src, vm.Trusted, BenchHelpers)
		rc := &vm.RunContext{Budget: 100000}
		want, err := exe.Run(rc)
		need := rc.Executed
		if src == endless {
			need = ^uint64(0)
		} else if err != nil {
			t.Errorf("%v\n%s", err, src)
			continue
		}
		for budget := uint64(1); budget < 80; budget++ {
			rc := &vm.RunContext{Budget: budget}
			got, err := exe.Run(rc)
			whole := err == nil && got == want && rc.Executed == need
			stopped := errors.Is(err, vm.ErrBudgetExceeded) && rc.Executed > budget && rc.Executed <= need
			// Engines may notice the budget only when control leaves a
			// straight-line run: a run may end normally past it.
			if budget >= need && !whole || !whole && !stopped {
				t.Errorf("budget %d: r0 = %d, executed %d, %v; want r0 = %d after %d instructions, or budget exceeded after more than %d\n%s", budget, got, rc.Executed, err, want, need, budget, src)
				break
			}
		}
	}

	// Long runs, past 2^20 instructions.
	exe = compile(t, e, long, vm.Trusted, nil)
	rc = &vm.RunContext{}
	if r0, err := exe.Run(rc); err != nil || r0 != 6000000 || rc.Executed != 3+9000000+1 {
		t.Errorf("long loop: r0 %d, executed %d, %v", r0, rc.Executed, err)
	}
	rc = &vm.RunContext{Budget: 1<<20 + 12345}
	_, err = exe.Run(rc)
	if !errors.Is(err, vm.ErrBudgetExceeded) || rc.Executed <= rc.Budget || rc.Executed > rc.Budget+3 {
		t.Errorf("long loop with budget %d: executed %d, %v", rc.Budget, rc.Executed, err)
	}
	exe = compile(t, e, deepCalls, vm.Trusted, nil)
	for _, budget := range []uint64{0, 1<<20 + 5, 2<<20 + 1} {
		rc := &vm.RunContext{Budget: budget}
		got, err := exe.Run(rc)
		switch {
		case budget == 0 && (err != nil || got != 200000+25*(0+1+2+3+4+5+6+7)*1000):
			t.Errorf("deep calls: r0 %d, %v", got, err)
		case budget != 0 && (!errors.Is(err, vm.ErrBudgetExceeded) || rc.Executed <= budget):
			t.Errorf("deep calls, budget %d: executed %d, %v", budget, rc.Executed, err)
		}
	}
}
