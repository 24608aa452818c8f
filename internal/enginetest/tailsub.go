package enginetest

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost/vm"
)

// The errnos the tail-call helpers of these tests return, as Linux's.
const (
	eNOENT = ^uint64(2 - 1) // -2
	e2BIG  = ^uint64(7 - 1) // -7
)

// tailHelper is bpf_tail_call over table, indexed by r3, with Linux's
// order of checks: the index, then the shared limit (counted before the
// slot is looked at), then the slot.
func tailHelper(table *[]vm.Executable) vm.Helper {
	return func(rc *vm.RunContext, ctx, _, idx, _, _ uint64) (uint64, error) {
		if idx >= uint64(len(*table)) {
			return eNOENT, nil
		}
		if rc.TailCalls >= vm.MaxTailCalls {
			return e2BIG, nil
		}
		rc.TailCalls++
		exe := (*table)[idx]
		if exe == nil {
			return eNOENT, nil
		}
		rc.TailCall, rc.Args[0] = exe, ctx
		return 0, nil
	}
}

// subCaller keeps 100 in its frame and 5 in r7 across a call of sub,
// which writes its own frame and r7 and tail-calls index [r1+8]; a failed
// tail call makes sub return 9000 + 55. The caller adds its frame's word
// and r7 to what sub returns.
const subCaller = `mov %r6, %r1
stdw [%r10-8], 100
mov %r7, 5
call local sub
ldxdw %r1, [%r10-8]
add %r0, %r1
add %r0, %r7
exit
sub:
stdw [%r10-8], 55
mov %r7, 1000
ldxdw %r3, [%r1+8]
call 12
ldxdw %r0, [%r10-8]
add %r0, 9000
exit`

// SubprogramTailCalls checks tail calls made in subprograms, with Linux's
// semantics (docs/decisions/0024-tail-calls-in-subprograms.md): the target
// runs in place of the subprogram and its r0 goes to the subprogram's
// caller, whose frame and r6-r9 are as it left them; a failed tail call
// falls through; the target may tail-call from its main function and from
// its own subprograms; the limit of vm.MaxTailCalls holds across all of
// them; the budget covers them. Each of others adds runs whose targets it
// compiled, as runs that mix engines do.
func SubprogramTailCalls(t *testing.T, e vm.Engine, others ...vm.Engine) {
	var table []vm.Executable
	helpers := vm.Helpers{12: tailHelper(&table)}
	// Counts its runs at [r1], writes its own frame, returns 7.
	const target = "ldxdw %r2, [%r1]\nadd %r2, 1\nstxdw [%r1], %r2\nstdw [%r10-8], 77\nmov %r0, 7\nexit"
	// Tail-calls slot 2 from its main function; returns 500 if that fails.
	const forward = "mov %r3, 2\ncall 12\nmov %r0, 500\nexit"
	for _, mode := range modes {
		for _, other := range append([]vm.Engine{e}, others...) {
			caller := compile(t, e, subCaller, mode, helpers)
			table = []vm.Executable{
				compile(t, other, target, mode, helpers),
				compile(t, other, forward, mode, helpers),
				compile(t, e, target, mode, helpers),
				nil,
			}
			ctx := heapBytes(16)
			tests := []struct {
				name  string
				index uint64
				r0    uint64
				runs  uint64 // of target
				calls int    // rc.TailCalls
			}{
				{"hit", 0, 7 + 100 + 5, 1, 1},
				{"target tail-calls from its main function", 1, 7 + 100 + 5, 1, 2},
				{"index out of range", 9, 9055 + 100 + 5, 0, 0},
				{"empty slot", 3, 9055 + 100 + 5, 0, 1},
			}
			for _, tt := range tests {
				clear(ctx)
				ctx[8] = byte(tt.index)
				rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("ctx", ctx, true)}, Value: ctx}
				rc.Args[0] = uint64(rc.Regions[0].Start)
				got, err := vm.Run(caller, rc)
				if err != nil || got != tt.r0 || uint64(ctx[0]) != tt.runs || rc.TailCalls != tt.calls || rc.Depth != 0 {
					t.Errorf("%v, %s targets, %s: r0 = %d, %v, target ran %d times, %d tail calls, depth %d; want %d, %d runs, %d tail calls, depth 0",
						mode, other.Name(), tt.name, got, err, ctx[0], rc.TailCalls, rc.Depth, tt.r0, tt.runs, tt.calls)
				}
			}
		}
		limit(t, e, mode, others)
		inCallback(t, e, mode)
	}
	regionsChanged(t, e)
}

// regionsChanged checks that a checked run sees the regions as the
// target of a subprogram's tail call left them: the target drops the
// region the caller wrote before the call (as a helper may, releasing
// memory), and the caller's write to it after the call faults.
func regionsChanged(t *testing.T, e vm.Engine) {
	var table []vm.Executable
	drop := func(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) {
		rc.Regions = rc.Regions[:0]
		return 0, nil
	}
	helpers := vm.Helpers{12: tailHelper(&table), 13: drop}
	const caller = "stdw [%r1+0], 1\nmov %r6, %r1\nmov %r3, 0\ncall local sub\nstdw [%r6+0], 2\nmov %r0, 0\nexit\nsub:\ncall 12\nexit"
	exe := compile(t, e, caller, vm.Checked, helpers)
	table = []vm.Executable{compile(t, e, "call 13\nmov %r0, 0\nexit", vm.Checked, helpers)}
	mem := heapBytes(8)
	rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("mem", mem, true)}, Value: mem}
	rc.Args[0] = uint64(rc.Regions[0].Start)
	_, err := vm.Run(exe, rc)
	var ae *vm.AccessError
	if !errors.As(err, &ae) || mem[0] != 1 {
		t.Errorf("write to a region the target dropped: %v, memory %d; want an access error, 1", err, mem[0])
	}
}

// looper runs its callback with the context up to 3 times through helper
// 1 (loopHelper) and returns how many times it ran; the callback
// tail-calls index [r1+8] and returns 0 when that fails.
const looper = `mov %r6, %r1
mov %r1, 3
lddw %r2, 0 #fn cb
mov %r3, %r6
call 1
exit
cb:
mov %r1, %r2
ldxdw %r3, [%r1+8]
call 12
mov %r0, 0
exit`

// inCallback checks a tail call made in a callback, which Linux's verifier
// refuses but an unverified program may make: the target runs in the
// callback's place and its r0 is the callback's, as in a subprogram.
func inCallback(t *testing.T, e vm.Engine, mode vm.Mode) {
	var table []vm.Executable
	helpers := vm.Helpers{1: loopHelper, 12: tailHelper(&table)}
	exe, err := e.Compile(&vm.Program{Instructions: AssembleFunc(t, looper), Helpers: helpers}, vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatalf("%s (%v): %v", e.Name(), mode, err)
	}
	defer exe.Close()
	table = []vm.Executable{compile(t, e, "mov %r0, 7\nexit", mode, helpers)}
	ctx := heapBytes(16)
	for _, tt := range []struct {
		index, want uint64
		calls       int
	}{{0, 1, 1}, {9, 3, 0}} {
		ctx[8] = byte(tt.index)
		rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("ctx", ctx, true)}, Value: ctx}
		rc.Args[0] = uint64(rc.Regions[0].Start)
		got, err := vm.Run(exe, rc)
		if err != nil || got != tt.want || rc.TailCalls != tt.calls || rc.Call != nil {
			t.Errorf("%v, callback tail-calls slot %d: r0 = %d, %v, %d tail calls, hook left %v; want %d, %d tail calls",
				mode, tt.index, got, err, rc.TailCalls, rc.Call != nil, tt.want, tt.calls)
		}
	}
}

// nester counts its runs at [r1] and calls sub, which tail-calls slot 0
// (nester again, run in sub's place); when that fails, sub returns the
// count. Each nester adds 1 to what sub returns.
const nester = `ldxdw %r2, [%r1]
add %r2, 1
stxdw [%r1], %r2
mov %r3, 0
call local sub
add %r0, 1
exit
sub:
mov %r6, %r1
call 12
ldxdw %r0, [%r6]
exit`

// limit checks the limit of vm.MaxTailCalls reached by tail calls made
// in subprograms, each nested in the one before: the first program and 33
// targets run, the 34th tail call falls through, and every level returns
// to the one that called it.
func limit(t *testing.T, e vm.Engine, mode vm.Mode, others []vm.Engine) {
	var table []vm.Executable
	helpers := vm.Helpers{12: tailHelper(&table)}
	// Targets from others only, when there are any: an engine that runs
	// every program twice to compare (Agree) would run the nested levels
	// 2^33 times.
	if len(others) == 0 {
		others = []vm.Engine{e}
	}
	for _, other := range others {
		first := compile(t, e, nester, mode, helpers)
		table = []vm.Executable{compile(t, other, nester, mode, helpers)}
		ctx := heapBytes(8)
		rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("ctx", ctx, true)}, Value: ctx}
		rc.Args[0] = uint64(rc.Regions[0].Start)
		got, err := vm.Run(first, rc)
		const runs = vm.MaxTailCalls + 1
		if err != nil || got != 2*runs || ctx[0] != runs || rc.TailCalls != vm.MaxTailCalls {
			t.Errorf("%v, %s targets: r0 = %d, %v, %d runs, %d tail calls; want %d, %d runs, %d tail calls",
				mode, other.Name(), got, err, ctx[0], rc.TailCalls, 2*runs, runs, vm.MaxTailCalls)
		}
		// Every level runs 5 + 2 instructions to its tail call and 2 after
		// sub returns; the last one's tail call fails, and sub goes on for
		// 2 more.
		if want := uint64(runs*9 + 2); rc.Executed != want {
			t.Errorf("%v, %s targets: executed %d, want %d", mode, other.Name(), rc.Executed, want)
		}
		// The budget covers the nested runs: it runs out in the middle.
		clear(ctx)
		rc.Budget = 100
		if _, err := vm.Run(first, rc); !errors.Is(err, vm.ErrBudgetExceeded) {
			t.Errorf("%v, %s targets: budget 100: %v, executed %d", mode, other.Name(), err, rc.Executed)
		}
		// The context is reusable: a second run is the same as the first.
		clear(ctx)
		rc.Budget = 0
		if got, err := vm.Run(first, rc); err != nil || got != 2*runs {
			t.Errorf("%v, %s targets: second run: r0 = %d, %v", mode, other.Name(), got, err)
		}
	}
}
