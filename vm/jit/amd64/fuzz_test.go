package amd64_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// memSize is the size of the input region differential runs get in r1.
const memSize = enginetest.FuzzMemSize

// diffHelpers are the helpers generated programs call: helper 1 mixes its
// arguments and the call depth, helper 5 returns r1.
var diffHelpers = enginetest.FuzzHelpers

// wrap turns a progen program into the body of a BPF-to-BPF call whose
// inputs come from the memory region and whose results go back to it: the
// entry function calls it, stores r0 in the region, passes it through a
// helper, callx and an atomic on the region. The body's prologue (ten lddw
// of constants) becomes loads of r0..r9 from the region, so that random
// inputs flow into the program.
func wrap(body []isa.Instruction) []isa.Instruction {
	const (
		ldxdw = isa.Opcode(isa.ClassLDX) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM)
		stxdw = isa.Opcode(isa.ClassSTX) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM)
		atom  = isa.Opcode(isa.ClassSTX) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeATOMIC)
		movX  = isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUMov) | isa.Opcode(isa.SourceX)
		movK  = isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUMov)
	)
	entry := []isa.Instruction{
		{Opcode: movX, Dst: isa.R6, Src: isa.R1},
		{Opcode: isa.OpCall, Src: isa.CallLocal}, // Imm patched below
		{Opcode: stxdw, Dst: isa.R6, Src: isa.R0, Offset: 80},
		{Opcode: movX, Dst: isa.R1, Src: isa.R0},
		{Opcode: ldxdw, Dst: isa.R2, Src: isa.R6, Offset: 88},
		{Opcode: isa.OpCall, Imm: 1},
		{Opcode: movX, Dst: isa.R7, Src: isa.R0},
		{Opcode: atom, Dst: isa.R6, Src: isa.R7, Offset: 72, Imm: isa.AtomicAdd | isa.AtomicFetch},
		{Opcode: movX, Dst: isa.R1, Src: isa.R7},
		{Opcode: movK, Dst: isa.R3, Imm: 1},
		{Opcode: isa.OpCallX, Dst: isa.R3},
		{Opcode: stxdw, Dst: isa.R6, Src: isa.R0, Offset: 96},
		{Opcode: isa.OpExit},
	}
	entry[1].Imm = int32(len(entry) - 2)
	body = append([]isa.Instruction(nil), body...)
	// Prologue: 20 slots. Load r1 last, it is the base.
	var pro []isa.Instruction
	for _, r := range []isa.Register{0, 2, 3, 4, 5, 6, 7, 8, 9, 1} {
		pro = append(pro, isa.Instruction{Opcode: ldxdw, Dst: r, Src: isa.R1, Offset: int16(8 * r)})
	}
	for len(pro) < 20 {
		pro = append(pro, isa.Instruction{Opcode: movX, Dst: isa.R0, Src: isa.R0})
	}
	copy(body, pro)
	return append(entry, body...)
}

// differ runs prog in the interpreter and the JIT in a mode on the same
// inputs and describes the first difference (see enginetest.Agree), or
// returns "".
func differ(prog []isa.Instruction, mode vm.Mode, input []byte, budget uint64) (string, error) {
	exe, err := agreeing().Compile(&vm.Program{Instructions: prog, Helpers: diffHelpers}, vm.CompileOptions{Mode: mode})
	if err != nil {
		return "", err
	}
	defer exe.Close()
	mem := heapBytes(memSize)
	copy(mem, input)
	rc := &vm.RunContext{Budget: budget, Packet: input, Value: mem}
	rc.Regions = []vm.Region{vm.RegionOf("input", mem, true)}
	rc.Args = [5]uint64{uint64(rc.Regions[0].Start), memSize, 3, 4, 5}
	_, err = exe.Run(rc)
	var ee *vm.ExecError
	switch {
	case errors.Is(err, enginetest.ErrDisagree):
		return err.Error(), nil
	case err != nil && !errors.As(err, &ee):
		return fmt.Sprintf("error %T %v is not an *vm.ExecError", err, err), nil
	}
	return "", nil
}

var genKinds = []progen.Options{
	{},
	{Jumps: true},
	{Jumps: true, Loops: true},
	{Atomics: true, V4: true},
	{Jumps: true, Loops: true, Atomics: true, V4: true},
	{MaxLen: 1, Jumps: true, Loops: true, Atomics: true, V4: true},
	{MaxLen: 400, Jumps: true, Loops: true, Atomics: true, V4: true, MaxIterations: 16},
}

// program generates program number seed: the options, the program and
// whether it is wrapped all derive from the seed.
func program(seed uint64) ([]isa.Instruction, progen.Options) {
	rng := rand.New(rand.NewPCG(seed, 0x6a17))
	opts := genKinds[rng.IntN(len(genKinds))]
	prog := progen.New(rng, opts).Program()
	if rng.IntN(2) == 0 {
		prog = wrap(prog)
	}
	return prog, opts
}

// check compares the engines on generated program seed with random inputs;
// budgetSel picks the budget: the program's step limit or, now and then, a
// smaller one so that runs stop early; and the JIT's budget chunk, small
// for one seed in three so that runs leave and resume at many jumps, calls
// and returns.
func check(t *testing.T, seed uint64, input []byte, budgetSel uint32) {
	prog, opts := program(seed)
	limit := opts.StepLimit() + 32
	budget := limit
	if budgetSel%4 == 0 {
		budget = uint64(budgetSel/4) % limit
	}
	if seed%3 == 0 {
		defer amd64.SetChunk(1 + seed/3%61)()
	}
	for _, mode := range modes {
		diff, err := differ(prog, mode, input, budget)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if diff != "" {
			t.Fatalf("seed %d (%v, budget %d): %s\n%s", seed, mode, budget, diff, isa.Disassemble(prog))
		}
	}
}

// TestDifferential runs generated programs on random inputs in the
// interpreter and the JIT, in both modes, and compares r0, errors,
// instruction counts, the stack and the input region.
func TestDifferential(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		input := make([]byte, memSize)
		for j := range input {
			input[j] = byte(rng.Uint32())
		}
		check(t, uint64(i), input, rng.Uint32())
	}
}

// FuzzJIT compares the engines on generated programs chosen by the fuzzer's
// seed, with the fuzzer's input memory and budget choice.
func FuzzJIT(f *testing.F) {
	for i := range 16 {
		f.Add(uint64(i), []byte{1, 2, 3, byte(i)}, uint32(i))
	}
	f.Fuzz(func(t *testing.T, seed uint64, mem []byte, budgetSel uint32) {
		input := make([]byte, memSize)
		copy(input, mem)
		check(t, seed, input, budgetSel)
	})
}

// FuzzJITChecked compares the engines in checked mode on arbitrary valid
// bytecode: checked runs must be safe whatever the program does, and the
// JIT must end every run exactly as the interpreter does.
func FuzzJITChecked(f *testing.F) { enginetest.FuzzChecked(f, agreeing()) }
