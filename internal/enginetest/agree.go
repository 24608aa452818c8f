package enginetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/bpfhost/bpfhost/vm"
)

// ErrDisagree is wrapped by the errors of an Agree engine's Compile and Run
// when its two engines compile or run a program differently.
var ErrDisagree = errors.New("engines disagree")

// Agree returns an engine that compiles every program with both ref and e,
// and runs it on both, ref first, from the same state: arguments, regions
// and their writable memory, stack contents, budget and tail-call state are
// restored before e's run. Runs return e's result, or an error wrapping
// ErrDisagree if the engines differ in r0, error text, instructions
// executed, call depth, tail call, r1 for the tail call, stack or writable
// memory. Compile fails with ErrDisagree if only one engine refuses the
// program, and otherwise returns e's error.
//
// Helpers run twice per run, so they must keep their state in rc; runs
// must not share writable memory with concurrent runs.
func Agree(ref, e vm.Engine) vm.Engine { return agree{ref: ref, e: e} }

type agree struct{ ref, e vm.Engine }

// Name is e's name and ref's: "jit~interp".
func (a agree) Name() string { return a.e.Name() + "~" + a.ref.Name() }

// Compile compiles p with both engines.
func (a agree) Compile(p *vm.Program, opts vm.CompileOptions) (vm.Executable, error) {
	ref, rerr := a.ref.Compile(p, opts)
	exe, err := a.e.Compile(p, opts)
	switch {
	case rerr != nil && err != nil:
		return nil, err
	case rerr != nil:
		exe.Close()
		return nil, fmt.Errorf("%w: %s compiles the program, %s refuses it: %v", ErrDisagree, a.e.Name(), a.ref.Name(), rerr)
	case err != nil:
		ref.Close()
		return nil, fmt.Errorf("%w: %s compiles the program, %s refuses it: %v", ErrDisagree, a.ref.Name(), a.e.Name(), err)
	}
	return &agreeExe{a: a, ref: ref, exe: exe}, nil
}

type agreeExe struct {
	a        agree
	ref, exe vm.Executable
}

// after is what a run leaves behind, for comparing engines.
type after struct {
	r0        uint64
	err       string
	executed  uint64
	depth     int
	tailCall  vm.Executable
	tailCalls int
	r1        uint64 // rc.Args[0], which the tail-call helper sets
}

func (o after) String() string {
	return fmt.Sprintf("r0=%#x err=%q executed=%d depth=%d tailcalls=%d r1=%#x", o.r0, o.err, o.executed, o.depth, o.tailCalls, o.r1)
}

// Run runs the program on both engines. See Agree.
func (x *agreeExe) Run(rc *vm.RunContext) (uint64, error) {
	// Helpers may change rc.Regions, and its elements in place.
	regions, header := slices.Clone(rc.Regions), rc.Regions
	args, budget, tailCall, tailCalls := rc.Args, rc.Budget, rc.TailCall, rc.TailCalls
	var before [][]byte
	for _, b := range memoryOf(rc, regions) {
		before = append(before, bytes.Clone(b))
	}
	var got [2]after
	var left [2][][]byte
	var r0 uint64
	var err error
	for i, exe := range []vm.Executable{x.ref, x.exe} {
		if i > 0 {
			copy(header, regions)
			rc.Regions, rc.Args, rc.Budget, rc.TailCall, rc.TailCalls = header, args, budget, tailCall, tailCalls
			for j, b := range memoryOf(rc, regions) {
				copy(b, before[j])
			}
		}
		r0, err = exe.Run(rc)
		got[i] = after{r0: r0, executed: rc.Executed, depth: rc.Depth, tailCall: rc.TailCall, tailCalls: rc.TailCalls, r1: rc.Args[0]}
		if err != nil {
			got[i].err = err.Error()
		}
		for _, b := range memoryOf(rc, regions) {
			left[i] = append(left[i], bytes.Clone(b))
		}
	}
	ref, e := x.a.ref.Name(), x.a.e.Name()
	if got[0] != got[1] {
		return r0, fmt.Errorf("%w:\n%-6s %v\n%-6s %v", ErrDisagree, ref, got[0], e, got[1])
	}
	for i := range left[0] {
		if bytes.Equal(left[0][i], left[1][i]) {
			continue
		}
		if i == 0 {
			return r0, fmt.Errorf("%w: stacks differ after %v", ErrDisagree, got[1])
		}
		return r0, fmt.Errorf("%w: memory differs after %v:\n%-6s %x\n%-6s %x", ErrDisagree, got[1], ref, left[0][i], e, left[1][i])
	}
	return r0, err
}

// memoryOf returns the memory a run may change: the stack, then each
// writable region.
func memoryOf(rc *vm.RunContext, regions []vm.Region) [][]byte {
	out := [][]byte{rc.Stack().Bytes()}
	for _, r := range regions {
		if r.Writable && r.Size > 0 {
			out = append(out, vm.Bytes(uint64(r.Start), int(r.Size)))
		}
	}
	return out
}

// Close closes both executables.
func (x *agreeExe) Close() error { return errors.Join(x.ref.Close(), x.exe.Close()) }
