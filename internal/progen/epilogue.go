package progen

import "github.com/bpfhost/bpfhost/isa"

// mixMul is the odd multiplier of the fold: odd, so multiplying by it is
// invertible modulo 2^64, and positive as an int32, so that the sign-extended
// immediate is the constant itself.
const mixMul = 0x2545f491

// prologue loads random constants into r0..r9, so that the body reads
// nothing that depends on how the program was entered.
func (g *Generator) prologue() {
	for r := isa.R0; r <= isa.R9; r++ {
		g.out = append(g.out, loadImm64(r, g.value64())...)
	}
}

// epilogue folds r1..r9 and the 8-byte stack slots that every path wrote into
// r0 and exits. Each fold step is a bijection of r0 for a fixed input, so
// two runs that differ in one folded value differ in r0.
func (g *Generator) epilogue() {
	for r := isa.R1; r <= isa.R9; r++ {
		g.fold(r)
	}
	var slots []int
	for off := -frameSize; off < 0; off += 8 {
		if g.written.has(off, 8) {
			slots = append(slots, off)
		}
	}
	g.rng.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
	for _, off := range slots[:min(len(slots), maxFoldedSlots)] {
		g.out = append(g.out, isa.Instruction{
			Opcode: isa.Opcode(isa.ClassLDX) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM),
			Dst:    isa.R1, Src: isa.RFP, Offset: int16(off),
		})
		g.fold(isa.R1)
	}
	g.out = append(g.out, isa.Instruction{Opcode: isa.OpExit})
}

// fold mixes r into r0, using r as scratch afterwards:
// r0 = (r0 ^ r) * mixMul; r0 ^= r0 >> 32.
func (g *Generator) fold(r isa.Register) {
	g.out = append(g.out,
		aluX(isa.ClassALU64, isa.ALUXor, isa.R0, r),
		aluK(isa.ClassALU64, isa.ALUMul, isa.R0, mixMul),
		aluX(isa.ClassALU64, isa.ALUMov, r, isa.R0),
		aluK(isa.ClassALU64, isa.ALURsh, r, 32),
		aluX(isa.ClassALU64, isa.ALUXor, isa.R0, r),
	)
}
