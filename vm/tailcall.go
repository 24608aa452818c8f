package vm

import "fmt"

// Tail calls (docs/decisions/0024-tail-calls-in-subprograms.md).
//
// A tail call made by a program's main function (call depth 0) ends the
// program, and chain starts the target in its place: that is vm.Run's loop.
// A tail call made deeper — in a BPF-to-BPF subprogram, or a callback —
// replaces only that function, as Linux's x86-64 JIT does since 5.10: the
// target runs as a fresh program and its r0 becomes the function's result,
// which its caller receives as from an exit. The engines call
// TailCallInPlace for it, at the helper call, and then return from the
// function with its result; everything else is here, once for both.
//
// The target runs on a stack of its own, with its own call depths from 0:
// its callers' frames stay where they are, untouched, and the target may
// again call down to MaxCallDepth and tail-call from there, up to the
// limit of MaxTailCalls the whole run shares (the nested chains never go
// deeper than that). To the target, and to the checked mode, the context
// and the helpers, it is an ordinary program started by a tail call: its
// entry frame is cleared as Begin clears it, rc.Depth counts its frames,
// the checked mode lets it reach its own frames and the run's regions,
// never its callers' frames (Linux's verifier gives it no pointer to
// them either).

// level is the state a nested tail call keeps between runs of one
// RunContext, so that reusing the context allocates nothing: the stack of
// the nesting level and the engine's scratch state used on it.
type level struct {
	stack  *Stack
	engine any
}

// TailCallInPlace runs the tail call that a helper just requested
// (rc.TailCall) from a function at call depth > 0, in place of that
// function, and returns its r0 and the instructions it executed. left is
// the instruction budget the run has left. The engine then returns from the
// function with r0, charging the instructions up to the helper call as its
// exit would. An error (the target's, or the budget) ends the whole run.
func (rc *RunContext) TailCallInPlace(left uint64) (r0, executed uint64, err error) {
	exe := rc.TailCall
	rc.TailCall = nil
	if exe == nil {
		return 0, 0, nil
	}
	if left == 0 {
		return 0, 0, ErrBudgetExceeded
	}
	// The tail-call helper counts every taken tail call against
	// MaxTailCalls, so this holds; it bounds the nesting for helpers that
	// do not count.
	if rc.nest >= MaxTailCalls {
		return 0, 0, fmt.Errorf("%w: tail calls from subprograms nested %d deep", ErrCallDepth, rc.nest)
	}
	for len(rc.levels) <= rc.nest {
		rc.levels = append(rc.levels, level{stack: new(Stack)})
	}
	lv := &rc.levels[rc.nest]
	outer := struct {
		stack  *Stack
		engine any
		call   func(fn, r1, r2, r3, r4, r5 uint64) (uint64, error)
		trace  func(exe Executable, pc int, regs *[11]uint64)
		args   [5]uint64
		budget uint64
		depth  int
		mode   Mode
	}{rc.stack, rc.EngineState, rc.Call, rc.Trace, rc.Args, rc.Budget, rc.Depth, rc.Mode}
	// Restored however the target ends: a helper or a trace hook may
	// panic out of the run (oracles stop runs so), and the context must
	// still be the outer program's when it is reused.
	defer func() {
		rc.nest--
		rc.levels[rc.nest].engine = rc.EngineState // chain may have grown rc.levels
		rc.stack, rc.EngineState, rc.Call, rc.Trace = outer.stack, outer.engine, outer.call, outer.trace
		rc.Args, rc.Budget, rc.Depth, rc.Mode = outer.args, outer.budget, outer.depth, outer.mode
	}()
	rc.nest++
	rc.stack, rc.EngineState, rc.Call = lv.stack, lv.engine, nil
	rc.Args = [5]uint64{rc.Args[0]}
	rc.Budget = left
	r0, err = rc.chain(exe)
	executed = rc.Executed
	return r0, executed, err
}

// TailNesting returns how many tail calls made in subprograms are running
// inside one another: 0 in the program a run started with and in the
// programs its main function tail-calls, one more in a target that a
// subprogram's tail call runs, whose depths and stack are its own. Oracles
// that follow a traced run step by step keep their view of each level's
// frames apart by it.
func (rc *RunContext) TailNesting() int { return rc.nest }

// chain runs exe and then every program it tail-calls from its main
// function, within rc's budget (rc.Budget, or DefaultBudget), and returns
// the last one's r0. It sets rc.Executed to the instructions of the whole
// chain.
func (rc *RunContext) chain(exe Executable) (uint64, error) {
	budget := rc.budget()
	var executed uint64
	for {
		if err := rc.Canceled(); err != nil {
			rc.Budget, rc.Executed = budget, executed
			return 0, err
		}
		rc.Budget = budget - executed
		r0, err := exe.Run(rc)
		executed += rc.Executed
		next := rc.TailCall
		if err != nil || next == nil {
			rc.Budget, rc.Executed = budget, executed
			return r0, err
		}
		rc.TailCall = nil
		rc.Args = [5]uint64{rc.Args[0]}
		exe = next
		if executed >= budget {
			rc.Budget, rc.Executed = budget, executed
			return 0, ErrBudgetExceeded
		}
	}
}
