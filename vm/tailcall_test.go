package vm

import (
	"errors"
	"testing"
)

// fakeExe is an executable whose Run is a Go function.
type fakeExe func(rc *RunContext) (uint64, error)

func (f fakeExe) Run(rc *RunContext) (uint64, error) { return f(rc) }
func (fakeExe) Close() error                         { return nil }

// TestTailCallInPlace checks what the target of a tail call made in a
// subprogram sees (a stack of its own at depth 0, one more nesting level,
// r1 alone, the budget left, no callback hook of its caller's) and that
// the caller's context is back afterwards, also when the target panics
// out of the run, as oracles stop runs.
func TestTailCallInPlace(t *testing.T) {
	rc := &RunContext{}
	outer := rc.Stack()
	call := func(fn, r1, r2, r3, r4, r5 uint64) (uint64, error) { return 0, nil }
	setOuter := func() {
		rc.Depth, rc.EngineState, rc.Call, rc.Args, rc.Budget = 3, "outer", call, [5]uint64{1, 2, 3, 4, 5}, 1000
	}
	checkOuter := func(what string) {
		t.Helper()
		if rc.TailNesting() != 0 || rc.Stack() != outer || rc.Depth != 3 || rc.EngineState != "outer" || rc.Call == nil || rc.Args != [5]uint64{1, 2, 3, 4, 5} || rc.Budget != 1000 {
			t.Errorf("%s: the caller's context is not back: nesting %d, own stack %v, depth %d, state %v, args %v, budget %d",
				what, rc.TailNesting(), rc.Stack() == outer, rc.Depth, rc.EngineState, rc.Args, rc.Budget)
		}
	}
	setOuter()
	var inner *Stack
	rc.TailCall = fakeExe(func(rc *RunContext) (uint64, error) {
		stack, budget := rc.Begin(Trusted, true)
		inner = stack
		if stack == outer || rc.Depth != 0 || rc.TailNesting() != 1 || rc.Call != nil || rc.Args != [5]uint64{1} || budget != 400 {
			t.Errorf("target: own stack %v, depth %d, nesting %d, hook %v, args %v, budget %d", stack != outer, rc.Depth, rc.TailNesting(), rc.Call != nil, rc.Args, budget)
		}
		rc.Executed = 5
		return 42, nil
	})
	r0, n, err := rc.TailCallInPlace(400)
	if r0 != 42 || n != 5 || err != nil || rc.TailCall != nil {
		t.Errorf("r0 %d, executed %d, %v, tail call %v; want 42, 5", r0, n, err, rc.TailCall)
	}
	checkOuter("after the target")

	// The level's stack is kept for the next nested run.
	rc.TailCall = fakeExe(func(rc *RunContext) (uint64, error) {
		if rc.Stack() != inner {
			t.Error("a second nested run at the same level got another stack")
		}
		return 0, nil
	})
	rc.TailCallInPlace(400)
	checkOuter("after the second target")

	rc.TailCall = fakeExe(func(rc *RunContext) (uint64, error) {
		rc.Begin(Trusted, false)
		rc.Depth = 5
		panic("stop")
	})
	func() {
		defer func() { _ = recover() }()
		rc.TailCallInPlace(400)
	}()
	checkOuter("after a target that panicked")

	rc.TailCall = fakeExe(func(rc *RunContext) (uint64, error) { t.Error("ran without budget"); return 0, nil })
	if _, _, err := rc.TailCallInPlace(0); !errors.Is(err, ErrBudgetExceeded) {
		t.Errorf("no budget left: %v", err)
	}
	rc.nest = MaxTailCalls
	rc.TailCall = fakeExe(func(rc *RunContext) (uint64, error) { t.Error("ran nested too deep"); return 0, nil })
	if _, _, err := rc.TailCallInPlace(10); !errors.Is(err, ErrCallDepth) {
		t.Errorf("nested %d deep: %v", MaxTailCalls, err)
	}
}
