package amd64

import "github.com/bpfhost/bpfhost/isa"

// alu emits an ALU or ALU64 instruction. 32-bit forms operate on the low
// halves; writing a 32-bit register clears the high half, which is exactly
// the zero-extension BPF wants.
func (c *compiler) alu(ins isa.Instruction) {
	a := &c.a
	w := ins.Opcode.Class() == isa.ClassALU64
	x := ins.Opcode.Source() == isa.SourceX
	d, s := bpfReg[ins.Dst], bpfReg[ins.Src&15]
	switch op := ins.Opcode.ALUOp(); op {
	case isa.ALUAdd, isa.ALUSub, isa.ALUOr, isa.ALUAnd, isa.ALUXor:
		ext, rop := groupOne(op)
		if x {
			a.aluRR(rop, w, d, s)
		} else {
			a.aluRI(ext, w, d, ins.Imm)
		}
	case isa.ALUMul:
		if x {
			a.rr(0, w, false, []byte{0x0f, 0xaf}, d, s) // imul d, s
		} else if fitsInt8(ins.Imm) {
			a.rr(0, w, false, []byte{0x6b}, d, d) // imul d, d, imm8
			a.b(byte(ins.Imm))
		} else {
			a.rr(0, w, false, []byte{0x69}, d, d) // imul d, d, imm32
			a.u32(uint32(ins.Imm))
		}
	case isa.ALUDiv, isa.ALUMod:
		c.divide(ins, w, x, op == isa.ALUMod, ins.Offset == 1)
	case isa.ALULsh, isa.ALURsh, isa.ALUArsh:
		ext := byte(extShl)
		switch op {
		case isa.ALURsh:
			ext = extShr
		case isa.ALUArsh:
			ext = extSar
		}
		if x {
			c.shiftX(ext, w, d, s)
			return
		}
		mask := int32(31)
		if w {
			mask = 63
		}
		switch n := ins.Imm & mask; {
		case n != 0:
			a.shiftRI(0, ext, w, d, uint8(n))
		case !w:
			a.movRR(false, d, d) // a shift by 0 still zero-extends
		}
	case isa.ALUNeg:
		a.unary(extNeg, w, d)
	case isa.ALUMov:
		switch {
		case !x && w:
			a.movImm(d, uint64(int64(ins.Imm)))
		case !x:
			a.movImm32(d, uint32(ins.Imm))
		case ins.Offset == 8:
			a.rr(0, w, true, []byte{0x0f, 0xbe}, d, s) // movsx d, s8
		case ins.Offset == 16:
			a.rr(0, w, false, []byte{0x0f, 0xbf}, d, s) // movsx d, s16
		case ins.Offset == 32:
			a.rr(0, true, false, []byte{0x63}, d, s) // movsxd d, s32
		case w && d == s:
		default:
			a.movRR(w, d, s)
		}
	case isa.ALUEnd:
		c.byteSwap(ins, w, x, d)
	}
}

// groupOne returns the immediate-form extension and register-form opcode of
// add, sub, or, and, xor.
func groupOne(op isa.ALUOp) (ext, rop byte) {
	switch op {
	case isa.ALUSub:
		return extSub, opSub
	case isa.ALUOr:
		return extOr, opOr
	case isa.ALUAnd:
		return extAnd, opAnd
	case isa.ALUXor:
		return extXor, opXor
	}
	return extAdd, opAdd
}

// shiftX shifts d by the register s. x86 takes the count in cl (BPF r4), so
// rcx is parked in tmp2 unless s is rcx. x86 masks the count to 5 or 6 bits
// as BPF does.
func (c *compiler) shiftX(ext byte, w bool, d, s reg) {
	a := &c.a
	switch {
	case s == rcx:
		a.shiftRCL(ext, w, d)
	case d == rcx:
		a.movRR(true, tmp2, rcx)
		a.movRR(true, rcx, s)
		a.shiftRCL(ext, w, tmp2)
		a.movRR(true, rcx, tmp2)
	default:
		a.movRR(true, tmp2, rcx)
		a.movRR(true, rcx, s)
		a.shiftRCL(ext, w, d)
		a.movRR(true, rcx, tmp2)
	}
}

// byteSwap emits le/be (ALU) and bswap (ALU64). The host is little-endian:
// "to little-endian" only truncates.
func (c *compiler) byteSwap(ins isa.Instruction, w, x bool, d reg) {
	a := &c.a
	swap := w || x // ALU64 bswap swaps unconditionally; ALU swaps for be
	switch ins.Imm {
	case 16:
		if swap {
			a.shiftRI(0x66, extRol, false, d, 8) // rol d16, 8
		}
		a.rr(0, false, false, []byte{0x0f, 0xb7}, d, d) // movzx d32, d16
	case 32:
		if swap {
			a.rex(false, 0, d, false)
			a.b(0x0f, 0xc8+byte(d&7)) // bswap d32
		} else {
			a.movRR(false, d, d)
		}
	case 64:
		if swap {
			a.rex(true, 0, d, false)
			a.b(0x0f, 0xc8+byte(d&7)) // bswap d64
		}
	}
}

// divide emits div, mod, sdiv and smod with RFC 9669 semantics: division by
// zero gives 0, modulo by zero leaves dst (zero-extended in 32-bit forms),
// and signed INT_MIN / -1 gives INT_MIN with remainder 0. x86 DIV and IDIV
// would fault on the last two, so a zero or -1 divisor never reaches them.
func (c *compiler) divide(ins isa.Instruction, w, x, mod, signed bool) {
	a := &c.a
	d := bpfReg[ins.Dst]
	byZero := func() {
		switch {
		case !mod:
			a.aluRR(opXor, false, d, d)
		case !w:
			a.movRR(false, d, d)
		}
	}
	byMinusOne := func() {
		if mod {
			a.aluRR(opXor, false, d, d)
		} else {
			a.unary(extNeg, w, d)
		}
	}
	if !x {
		switch {
		case ins.Imm == 0:
			byZero()
			return
		case signed && ins.Imm == -1:
			byMinusOne()
			return
		case w:
			a.movImm(tmp2, uint64(int64(ins.Imm)))
		default:
			a.movImm32(tmp2, uint32(ins.Imm))
		}
		c.divCore(w, mod, signed, d)
		return
	}
	a.movRR(w, tmp2, bpfReg[ins.Src])
	done, zero := a.newLabel(), a.newLabel()
	a.aluRR(opTest, w, tmp2, tmp2)
	a.jcc(ccE, zero)
	c.stub(zero, func() {
		byZero()
		a.jmp(done)
	})
	if signed {
		minusOne := a.newLabel()
		a.aluRI(extCmp, w, tmp2, -1)
		a.jcc(ccE, minusOne)
		c.stub(minusOne, func() {
			byMinusOne()
			a.jmp(done)
		})
	}
	c.divCore(w, mod, signed, d)
	a.bind(done)
}

// divCore divides d by tmp2 (non-zero, not -1 when signed) in rdx:rax,
// saving BPF r0 (rax) in tmp1 and r3 (rdx) in the context unless d is one
// of them.
func (c *compiler) divCore(w, mod, signed bool, d reg) {
	a := &c.a
	if d != rax {
		a.movRR(true, tmp1, rax)
		a.movRR(w, rax, d)
	}
	if d != rdx {
		a.store(true, ctxReg, offSpill, rdx)
	}
	switch {
	case signed && w:
		a.b(0x48, 0x99) // cqo
	case signed:
		a.b(0x99) // cdq
	default:
		a.aluRR(opXor, false, rdx, rdx)
	}
	ext := byte(extDiv)
	if signed {
		ext = extIdiv
	}
	a.unary(ext, w, tmp2)
	res := rax
	if mod {
		res = rdx
	}
	if d != res {
		a.movRR(w, d, res)
	}
	if d != rax {
		a.movRR(true, rax, tmp1)
	}
	if d != rdx {
		a.load(true, rdx, ctxReg, offSpill)
	}
}
