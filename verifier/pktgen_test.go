package verifier

import (
	"math/rand/v2"

	"github.com/bpfhost/bpfhost/isa"
)

// pktgen makes random XDP programs that walk a packet with pointers, check
// them against data_end (and data_meta against data) with random,
// sometimes off-by-one, bounds, read and write packet bytes at random
// offsets, add variable offsets read from the packet, spill and fill
// pointers, loop over the packet, and look up an array map value and read
// it with or without a NULL check. Most are unsafe; the soundness test
// runs the ones the verifier accepts.
//
// Registers: r6 = data, r7 = data_end, r8 and r9 cursors (packet
// pointers, or data_meta), r0-r5 scratch (helper calls clobber them).
type pktgen struct {
	rng     *rand.Rand
	out     []isa.Instruction
	pending []pendingJump
}

type pendingJump struct {
	at    int // slot of the jump
	steps int // patch after this many more steps
}

func ins(op isa.Opcode, dst, src isa.Register, off int16, imm int32) isa.Instruction {
	return isa.Instruction{Opcode: op, Dst: dst, Src: src, Offset: off, Imm: imm}
}

func alu64K(op isa.ALUOp, dst isa.Register, imm int32) isa.Instruction {
	return ins(isa.Opcode(isa.ClassALU64)|isa.Opcode(op)|isa.Opcode(isa.SourceK), dst, 0, 0, imm)
}

func alu64X(op isa.ALUOp, dst, src isa.Register) isa.Instruction {
	return ins(isa.Opcode(isa.ClassALU64)|isa.Opcode(op)|isa.Opcode(isa.SourceX), dst, src, 0, 0)
}

func ldx(size isa.Size, dst, src isa.Register, off int16) isa.Instruction {
	return ins(isa.Opcode(isa.ClassLDX)|isa.Opcode(size)|isa.Opcode(isa.ModeMEM), dst, src, off, 0)
}

func stx(size isa.Size, dst, src isa.Register, off int16) isa.Instruction {
	return ins(isa.Opcode(isa.ClassSTX)|isa.Opcode(size)|isa.Opcode(isa.ModeMEM), dst, src, off, 0)
}

func stImm(size isa.Size, dst isa.Register, off int16, imm int32) isa.Instruction {
	return ins(isa.Opcode(isa.ClassST)|isa.Opcode(size)|isa.Opcode(isa.ModeMEM), dst, 0, off, imm)
}

func jmpX(op isa.JumpOp, dst, src isa.Register, off int16) isa.Instruction {
	return ins(isa.Opcode(isa.ClassJMP)|isa.Opcode(op)|isa.Opcode(isa.SourceX), dst, src, off, 0)
}

func jmpK(cls isa.Class, op isa.JumpOp, dst isa.Register, imm int32, off int16) isa.Instruction {
	return ins(isa.Opcode(cls)|isa.Opcode(op)|isa.Opcode(isa.SourceK), dst, 0, off, imm)
}

var sizes = []isa.Size{isa.SizeB, isa.SizeH, isa.SizeW, isa.SizeDW}

func (g *pktgen) emit(in ...isa.Instruction) { g.out = append(g.out, in...) }

// jumpAhead emits a conditional jump whose target is fixed a few steps
// later.
func (g *pktgen) jumpAhead(in isa.Instruction) {
	g.pending = append(g.pending, pendingJump{at: len(g.out), steps: 1 + g.rng.IntN(3)})
	g.emit(in)
}

func (g *pktgen) patch(all bool) {
	keep := g.pending[:0]
	for _, p := range g.pending {
		p.steps--
		if p.steps <= 0 || all {
			g.out[p.at].Offset = int16(len(g.out) - p.at - 1)
			continue
		}
		keep = append(keep, p)
	}
	g.pending = keep
}

func (g *pktgen) ptr() isa.Register { return isa.Register(6 + []int{0, 2, 3}[g.rng.IntN(3)]) }

func (g *pktgen) small() int32 { return int32(g.rng.IntN(48)) - 4 }

func (g *pktgen) program(steps int) []isa.Instruction {
	g.out, g.pending = nil, nil
	g.emit(ldx(isa.SizeW, 6, 1, 0), ldx(isa.SizeW, 7, 1, 4))
	g.emit(alu64X(isa.ALUMov, 8, 6), alu64X(isa.ALUMov, 9, 6))
	if g.rng.IntN(4) == 0 {
		g.emit(ldx(isa.SizeW, 9, 1, 8)) // data_meta
	}
	for i := 0; i < steps; i++ {
		g.step()
		g.patch(false)
	}
	g.patch(true)
	g.emit(alu64K(isa.ALUMov, 0, 2), ins(isa.OpExit, 0, 0, 0, 0))
	return g.out
}

func (g *pktgen) step() {
	rng := g.rng
	p := g.ptr()
	switch rng.IntN(12) {
	case 0: // copy a pointer
		g.emit(alu64X(isa.ALUMov, g.ptr(), p))
	case 1: // constant offset
		if p != 6 {
			g.emit(alu64K(isa.ALUAdd, p, g.small()))
		}
	case 2: // variable offset from packet data
		g.emit(ldx(isa.SizeB, 2, p, int16(rng.IntN(16))))
		g.emit(alu64K(isa.ALUAnd, 2, []int32{0x0f, 0x3c, 0x07, 0xff}[rng.IntN(4)]))
		if rng.IntN(2) == 0 {
			g.emit(alu64K(isa.ALULsh, 2, 2))
		}
		if q := g.ptr(); q != 6 {
			g.emit(alu64X(isa.ALUAdd, q, 2))
		}
	case 3, 4: // bounds check against data_end, then an access near it
		k := g.small()
		g.emit(alu64X(isa.ALUMov, 3, p), alu64K(isa.ALUAdd, 3, k))
		defer func() {
			size := sizes[rng.IntN(3)]
			off := int16(int(k) - size.Bytes() + rng.IntN(3) - 1)
			g.emit(ldx(size, 0, p, off))
		}()
		ops := []isa.JumpOp{isa.JumpGT, isa.JumpGE, isa.JumpSGT}
		if rng.IntN(3) == 0 {
			// end < p form
			g.jumpAhead(jmpX([]isa.JumpOp{isa.JumpLT, isa.JumpLE}[rng.IntN(2)], 7, 3, 0))
		} else {
			g.jumpAhead(jmpX(ops[rng.IntN(len(ops))], 3, 7, 0))
		}
	case 5, 6: // access
		size := sizes[rng.IntN(4)]
		off := int16(rng.IntN(24) - 2)
		if rng.IntN(3) == 0 {
			g.emit(alu64K(isa.ALUMov, 0, int32(rng.IntN(256))), stx(size, p, 0, off))
		} else {
			g.emit(ldx(size, 0, p, off))
		}
	case 7: // meta check: meta + k <= data
		g.emit(alu64X(isa.ALUMov, 3, 9), alu64K(isa.ALUAdd, 3, int32(rng.IntN(12))))
		g.jumpAhead(jmpX(isa.JumpGT, 3, 6, 0))
	case 8: // spill and fill
		off := int16(-8 * (1 + rng.IntN(4)))
		g.emit(stx(isa.SizeDW, 10, p, off), ldx(isa.SizeDW, g.ptr(), 10, off))
	case 9: // a loop over the packet
		g.emit(alu64K(isa.ALUMov, 4, 0))
		top := len(g.out)
		g.emit(alu64X(isa.ALUMov, 3, 8), alu64K(isa.ALUAdd, 3, int32(1+rng.IntN(3))))
		exit1 := len(g.out)
		g.emit(jmpX(isa.JumpGT, 3, 7, 0))
		g.emit(ldx(isa.SizeB, 2, 8, int16(rng.IntN(2))), alu64K(isa.ALUAnd, 2, 7), alu64K(isa.ALUAdd, 2, 1))
		g.emit(alu64X(isa.ALUAdd, 8, 2))
		g.emit(alu64K(isa.ALUAdd, 4, 1))
		g.emit(jmpK(isa.ClassJMP, isa.JumpLT, 4, int32(2+rng.IntN(12)), int16(top-len(g.out)-1)))
		g.out[exit1].Offset = int16(len(g.out) - exit1 - 1)
	case 10: // map lookup
		lo := isa.LoadImm64(1, isa.PseudoMapIdx, 0)
		g.emit(stImm(isa.SizeW, 10, -40, int32(rng.IntN(2))))
		g.emit(lo[0], lo[1], alu64X(isa.ALUMov, 2, 10), alu64K(isa.ALUAdd, 2, -40))
		g.emit(ins(isa.OpCall, 0, 0, 0, 1))
		if rng.IntN(5) != 0 {
			g.jumpAhead(jmpK(isa.ClassJMP, isa.JumpEq, 0, 0, 0))
		}
		off := int16(rng.IntN(20))
		g.emit(ldx(sizes[rng.IntN(4)], 1, 0, off), alu64K(isa.ALUMov, 0, 0))
	case 11: // compare two cursors, then access the smaller range
		g.jumpAhead(jmpX(isa.JumpGE, p, 7, 0))
		g.emit(ldx(isa.SizeB, 0, p, 0))
	}
}
