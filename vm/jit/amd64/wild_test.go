package amd64_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// wildOutcome counts how wild runs ended, to show that the inputs reach
// both ends: accesses that are allowed and accesses that fault.
type wildOutcome struct{ runs, faults, unaligned int }

// checkWild runs generated program seed, made wild (enginetest.Wild) with
// pointers to the run's writable region, a read-only region, the stack and
// memory the run was never given, in checked mode in the interpreter and
// the JIT, and fails unless they agree (r0, error, counts, stack, memory)
// and both left the read-only and the foreign memory untouched.
func checkWild(t *testing.T, seed uint64, input []byte, budgetSel uint32, w *wildOutcome) {
	rng := rand.New(rand.NewPCG(seed, 0x3c1d))
	opts := genKinds[rng.IntN(len(genKinds))]
	body := progen.New(rng, opts).Program()
	mem, ro, foreign := heapBytes(memSize), heapBytes(64), heapBytes(64)
	copy(mem, input)
	for i := range ro {
		ro[i], foreign[i] = byte(i), byte(^i)
	}
	rc := &vm.RunContext{Packet: input, Value: [][]byte{mem, ro, foreign}}
	rc.Regions = []vm.Region{vm.RegionOf("input", mem, true), vm.RegionOf("ro", ro, false)}
	top := rc.Stack().Top()
	start := func(b []byte) uint64 { return uint64(vm.RegionOf("", b, false).Start) }
	targets := []uint64{start(mem), start(mem) + memSize, start(ro), start(ro) + 64, start(foreign),
		top, top - vm.StackSize, top - 2*vm.StackSize, top - vm.StackFrames*vm.StackSize, 0}
	prog := enginetest.Wild(rng, body, targets)
	if seed%4 == 1 {
		// As the body of a BPF-to-BPF call (a deeper frame, r10 moved)
		// whose results go through a helper, callx and an atomic.
		prog = wrap(prog)
	}
	if seed%2 == 0 {
		// An access to the region first fills the JIT's region table, so
		// that the program's own accesses are tested inline against it
		// rather than in Go. r1 and r0 are set again by the prologue.
		warm := isa.Instruction{Opcode: isa.Opcode(isa.ClassLDX) | isa.Opcode(isa.SizeB) | isa.Opcode(isa.ModeMEM), Dst: isa.R0, Src: isa.R1}
		prog = append([]isa.Instruction{warm}, prog...)
	}
	limit := opts.StepLimit() + 32
	rc.Budget = limit
	if budgetSel%4 == 0 {
		rc.Budget = uint64(budgetSel/4)%limit + 1
	}
	if seed%3 == 0 {
		defer amd64.SetChunk(1 + seed/3%61)()
	}
	rc.Args = [5]uint64{start(mem), memSize, 3, 4, 5}
	exe, err := agreeing().Compile(&vm.Program{Instructions: prog, Helpers: diffHelpers}, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		t.Fatalf("seed %d: %v\n%s", seed, err, isa.Disassemble(prog))
	}
	defer exe.Close()
	_, err = exe.Run(rc)
	var ee *vm.ExecError
	var ae *vm.AccessError
	switch {
	case errors.Is(err, enginetest.ErrDisagree):
		t.Fatalf("seed %d (%+v): %v\n%s", seed, opts, err, isa.Disassemble(prog))
	case err != nil && !errors.As(err, &ee):
		t.Fatalf("seed %d: error %T %v is not an *vm.ExecError", seed, err, err)
	case errors.As(err, &ae):
		w.faults++
	case err != nil && !errors.Is(err, vm.ErrBudgetExceeded):
		w.unaligned++ // misaligned atomics
	}
	w.runs++
	for i := range ro {
		if ro[i] != byte(i) || foreign[i] != byte(^i) {
			t.Fatalf("seed %d: a checked run wrote read-only or foreign memory\n%s", seed, isa.Disassemble(prog))
		}
	}
}

// TestWildDifferential runs generated programs whose loads, stores and
// atomics go through planted and arbitrary pointers (enginetest.Wild) in
// checked mode, in the interpreter and the JIT: every run must end the same
// way in both, with a result or the same fault, and touch nothing else.
func TestWildDifferential(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var w wildOutcome
	for i := range n {
		input := make([]byte, memSize)
		for j := range input {
			input[j] = byte(rng.Uint32())
		}
		checkWild(t, uint64(i), input, rng.Uint32(), &w)
	}
	t.Logf("%d runs: %d access faults, %d other errors", w.runs, w.faults, w.unaligned)
	if w.faults < n/10 || w.runs-w.faults < n/10 {
		t.Errorf("%d of %d runs faulted: the programs do not reach both allowed and refused accesses", w.faults, w.runs)
	}
}

// FuzzJITWild is TestWildDifferential driven by the fuzzer: the program's
// seed, the region's contents and the budget choice.
func FuzzJITWild(f *testing.F) {
	for i := range 16 {
		f.Add(uint64(i), []byte{1, 2, 3, byte(i)}, uint32(i))
	}
	f.Fuzz(func(t *testing.T, seed uint64, mem []byte, budgetSel uint32) {
		input := make([]byte, memSize)
		copy(input, mem)
		checkWild(t, seed, input, budgetSel, &wildOutcome{})
	})
}
