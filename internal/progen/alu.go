package progen

import "github.com/bpfhost/bpfhost/isa"

func aluK(cls isa.Class, op isa.ALUOp, dst isa.Register, imm int32) isa.Instruction {
	return isa.Instruction{Opcode: isa.Opcode(cls) | isa.Opcode(isa.SourceK) | isa.Opcode(op), Dst: dst, Imm: imm}
}

func aluX(cls isa.Class, op isa.ALUOp, dst, src isa.Register) isa.Instruction {
	return isa.Instruction{Opcode: isa.Opcode(cls) | isa.Opcode(isa.SourceX) | isa.Opcode(op), Dst: dst, Src: src}
}

// Operations drawn for ALU instructions; the v4 ones are drawn separately.
var aluOps = []isa.ALUOp{
	isa.ALUAdd, isa.ALUSub, isa.ALUMul, isa.ALUDiv, isa.ALUOr, isa.ALUAnd,
	isa.ALULsh, isa.ALURsh, isa.ALUNeg, isa.ALUMod, isa.ALUXor, isa.ALUMov,
	isa.ALUArsh, isa.ALUEnd,
}

// alu emits one arithmetic instruction, sometimes after setting up the
// operands of a division for its special cases. It fails only if the body
// has no slot left.
func (g *Generator) alu() bool {
	if !g.fits(1) {
		return false
	}
	cls := isa.ClassALU64
	if g.rng.IntN(2) == 0 {
		cls = isa.ClassALU
	}
	if g.opts.V4 && g.rng.IntN(5) == 0 {
		g.aluV4(cls)
		return true
	}
	op := aluOps[g.rng.IntN(len(aluOps))]
	dst := g.dst()
	switch op {
	case isa.ALUNeg:
		g.emit(aluK(cls, op, dst, 0))
	case isa.ALUEnd:
		// le (K) and be (X) exist in the 32-bit class only; the 64-bit
		// class's K form is v4's bswap.
		ins := isa.Instruction{Opcode: isa.Opcode(isa.ClassALU) | isa.Opcode(isa.ALUEnd), Dst: dst, Imm: swapWidth(g)}
		if g.rng.IntN(2) == 0 {
			ins.Opcode |= isa.Opcode(isa.SourceX)
		}
		g.emit(ins)
	case isa.ALULsh, isa.ALURsh, isa.ALUArsh:
		if g.rng.IntN(2) == 0 {
			g.emit(aluX(cls, op, dst, g.src()))
			break
		}
		width := 64
		if cls == isa.ClassALU {
			width = 32
		}
		// Linux rejects immediate shifts outside 0..width-1.
		g.emit(aluK(cls, op, dst, int32(g.rng.IntN(width))))
	case isa.ALUDiv, isa.ALUMod:
		g.division(cls, op, dst, 0)
	default:
		if g.rng.IntN(2) == 0 {
			g.emit(aluX(cls, op, dst, g.src()))
		} else {
			g.emit(aluK(cls, op, dst, g.imm32()))
		}
	}
	return true
}

// aluV4 emits one of the ISA v4 arithmetic forms: sdiv, smod, movsx, bswap.
func (g *Generator) aluV4(cls isa.Class) {
	dst := g.dst()
	switch g.rng.IntN(4) {
	case 0:
		g.division(cls, isa.ALUDiv, dst, 1)
	case 1:
		g.division(cls, isa.ALUMod, dst, 1)
	case 2:
		widths := []int16{8, 16, 32} // movsx32 has no 32-bit source width
		if cls == isa.ClassALU {
			widths = widths[:2]
		}
		ins := aluX(cls, isa.ALUMov, dst, g.src())
		ins.Offset = widths[g.rng.IntN(len(widths))]
		g.emit(ins)
	default:
		g.emit(aluK(isa.ClassALU64, isa.ALUEnd, dst, swapWidth(g)))
	}
}

func swapWidth(g *Generator) int32 { return []int32{16, 32, 64}[g.rng.IntN(3)] }

// division emits a div or mod (signed when offset is 1). The K form never
// divides by zero, which Linux rejects; the X form sometimes first loads a
// special divisor (zero, a zero low half, minus one) and a special dividend
// (the most negative values), when the body has room.
func (g *Generator) division(cls isa.Class, op isa.ALUOp, dst isa.Register, offset int16) {
	if g.rng.IntN(3) == 0 {
		ins := aluK(cls, op, dst, g.nonZeroImm32())
		ins.Offset = offset
		g.emit(ins)
		return
	}
	src := g.src()
	if g.rng.IntN(3) == 0 && !g.reserved[src] && g.fits(5) {
		if src != dst && g.rng.IntN(2) == 0 {
			g.emit(loadImm64(dst, specialDividends[g.rng.IntN(len(specialDividends))])...)
		}
		g.emit(loadImm64(src, specialDivisors[g.rng.IntN(len(specialDivisors))])...)
	}
	ins := aluX(cls, op, dst, src)
	ins.Offset = offset
	g.emit(ins)
}
