package enginetest

import (
	"math/rand/v2"

	"github.com/bpfhost/bpfhost/isa"
)

// Wild rewrites a generated program (package progen) into one whose memory
// accesses may go anywhere, for differential runs of checked engines: the
// program then has pointers a verifier would never let through, as if it
// had been wrong. It works in place on a copy and keeps every jump offset:
//
//   - Each lddw (the prologue's constants and the body's) becomes, one time
//     in two, one of targets plus a small or an edge-case displacement:
//     the run's region, its stack, memory the run was never given.
//   - Each load, store and atomic on the stack gets, one time in two, another
//     base register (so it goes through whatever that register holds, a
//     planted pointer or any number) and, one time in four, an offset that
//     may leave the frame or misalign the access.
//
// The result is valid (isa.Validate) whenever prog is. Checked runs of it
// must end exactly as the checked interpreter's do, with a result or an
// access error, and never touch memory outside the run's regions.
func Wild(rng *rand.Rand, prog []isa.Instruction, targets []uint64) []isa.Instruction {
	out := append([]isa.Instruction(nil), prog...)
	displacements := []int64{0, 0, 0, 1, -1, 4, 7, 8, -8, 16, 64, 120, 127, 128, 256, 504, 511, 512, -512, 4096, -4096}
	for pc := 0; pc < len(out); pc++ {
		ins := &out[pc]
		if ins.IsLoadImm64() {
			if pc+1 < len(out) && len(targets) > 0 && rng.IntN(2) == 0 {
				v := targets[rng.IntN(len(targets))] + uint64(displacements[rng.IntN(len(displacements))])
				pair := isa.LoadImm64(ins.Dst, ins.Src, v)
				out[pc], out[pc+1] = pair[0], pair[1]
			}
			pc++
			continue
		}
		base := memoryBase(ins)
		if base == nil || rng.IntN(2) == 0 {
			continue
		}
		*base = isa.Register(rng.IntN(10)) // r0..r9; r10 stays r10 in the other half
		if rng.IntN(4) == 0 {
			ins.Offset = int16(rng.IntN(1200) - 700)
		}
	}
	return out
}

// memoryBase returns the base register field of a load, store or atomic,
// or nil for other instructions.
func memoryBase(ins *isa.Instruction) *isa.Register {
	op := ins.Opcode
	switch op.Class() {
	case isa.ClassLDX:
		if m := op.Mode(); m == isa.ModeMEM || m == isa.ModeMEMSX {
			return &ins.Src
		}
	case isa.ClassST, isa.ClassSTX:
		if m := op.Mode(); m == isa.ModeMEM || m == isa.ModeATOMIC {
			return &ins.Dst
		}
	}
	return nil
}
