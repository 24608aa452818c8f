package amd64

import "encoding/binary"

// reg is an x86-64 general-purpose register number as ModRM encodes it
// (with REX extending it to four bits).
type reg uint8

// x86-64 registers.
const (
	rax reg = iota
	rcx
	rdx
	rbx
	rsp
	rbp
	rsi
	rdi
	r8
	r9
	r10
	r11
	r12
	r13
	r14
	r15
)

// Condition codes, the low nibble of Jcc (0x0f 0x80+cc).
const (
	ccB  = 0x2 // unsigned <
	ccAE = 0x3 // unsigned >=
	ccE  = 0x4
	ccNE = 0x5
	ccBE = 0x6 // unsigned <=
	ccA  = 0x7 // unsigned >
	ccS  = 0x8
	ccNS = 0x9
	ccL  = 0xc // signed <
	ccGE = 0xd
	ccLE = 0xe
	ccG  = 0xf
)

// ModRM opcode extensions of the group-1 arithmetic instructions (0x81,
// 0x83) and their register-form opcodes (op r/m, r).
const (
	extAdd = 0
	extOr  = 1
	extAnd = 4
	extSub = 5
	extXor = 6
	extCmp = 7

	opAdd  = 0x01
	opOr   = 0x09
	opAnd  = 0x21
	opSub  = 0x29
	opXor  = 0x31
	opCmp  = 0x39
	opTest = 0x85
	opMov  = 0x89
)

// Shift-group extensions (0xc1, 0xd3).
const (
	extRol = 0
	extShl = 4
	extShr = 5
	extSar = 7
)

// label names a code position that may not be known yet.
type label int32

// fixup is a 32-bit field that must hold the distance from its end to a
// label.
type fixup struct {
	at int32
	to label
}

// assembler encodes x86-64 instructions into a buffer. It supports the
// operand forms the compiler uses: register-register, register-immediate and
// register-memory with a base register and a 32-bit displacement.
type assembler struct {
	buf    []byte
	labels []int32 // label -> offset, -1 while unbound
	fixups []fixup
}

func (a *assembler) pos() int32 { return int32(len(a.buf)) }

func (a *assembler) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

// bind places l at the current position.
func (a *assembler) bind(l label) { a.labels[l] = a.pos() }

func (a *assembler) b(bs ...byte) { a.buf = append(a.buf, bs...) }

func (a *assembler) u32(v uint32) { a.buf = binary.LittleEndian.AppendUint32(a.buf, v) }

func (a *assembler) u64(v uint64) { a.buf = binary.LittleEndian.AppendUint64(a.buf, v) }

// rel32 emits a 32-bit field pointing at l, resolved by link.
func (a *assembler) rel32(l label) {
	a.fixups = append(a.fixups, fixup{at: a.pos(), to: l})
	a.u32(0)
}

// link resolves every fixup; it reports false if a label was never bound.
func (a *assembler) link() bool {
	for _, f := range a.fixups {
		to := a.labels[f.to]
		if to < 0 {
			return false
		}
		binary.LittleEndian.PutUint32(a.buf[f.at:], uint32(to-(f.at+4)))
	}
	return true
}

// rex emits a REX prefix when one is needed: a 64-bit operand, an extended
// register, or force (byte access to spl, bpl, sil, dil).
func (a *assembler) rex(w bool, r, b reg, force bool) {
	v := byte(0x40)
	if w {
		v |= 8
	}
	if r&8 != 0 {
		v |= 4
	}
	if b&8 != 0 {
		v |= 1
	}
	if v != 0x40 || force {
		a.b(v)
	}
}

// rr emits an instruction whose ModRM holds register r (or an opcode
// extension) and register rm. pfx is a legacy prefix (0x66, 0xf0) or 0;
// byteRegs says an operand is a byte register, which needs a REX prefix to
// mean sil/dil/bpl/spl rather than dh/bh/ch/ah.
func (a *assembler) rr(pfx byte, w, byteRegs bool, op []byte, r, rm reg) {
	if pfx != 0 {
		a.b(pfx)
	}
	a.rex(w, r, rm, byteRegs && (r >= 4 || rm >= 4))
	a.b(op...)
	a.b(0xc0 | byte(r&7)<<3 | byte(rm&7))
}

// rm emits an instruction whose ModRM holds register r (or an opcode
// extension) and the memory operand [base+disp].
func (a *assembler) rm(pfx byte, w, byteReg bool, op []byte, r, base reg, disp int32) {
	if pfx != 0 {
		a.b(pfx)
	}
	a.rex(w, r, base, byteReg && r >= 4)
	a.b(op...)
	rf := byte(r&7) << 3
	var mod byte
	switch {
	case disp == 0 && base&7 != 5: // rbp and r13 have no displacement-free form
		mod = 0x00
	case disp >= -128 && disp <= 127:
		mod = 0x40
	default:
		mod = 0x80
	}
	a.b(mod | rf | byte(base&7))
	if base&7 == 4 { // rsp and r12 need a SIB byte
		a.b(0x24)
	}
	switch mod {
	case 0x40:
		a.b(byte(disp))
	case 0x80:
		a.u32(uint32(disp))
	}
}

// rmx emits an instruction whose ModRM holds register r (or an opcode
// extension) and the memory operand [base+index<<scale+disp]. index must
// not be rsp, which a SIB byte cannot name as an index.
func (a *assembler) rmx(pfx byte, w bool, op []byte, r, base, index reg, scale uint8, disp int32) {
	if pfx != 0 {
		a.b(pfx)
	}
	v := byte(0x40)
	if w {
		v |= 8
	}
	if r&8 != 0 {
		v |= 4
	}
	if index&8 != 0 {
		v |= 2
	}
	if base&8 != 0 {
		v |= 1
	}
	if v != 0x40 {
		a.b(v)
	}
	a.b(op...)
	var mod byte
	switch {
	case disp == 0 && base&7 != 5: // rbp and r13 have no displacement-free form
		mod = 0x00
	case fitsInt8(disp):
		mod = 0x40
	default:
		mod = 0x80
	}
	a.b(mod|byte(r&7)<<3|4, scale<<6|byte(index&7)<<3|byte(base&7))
	switch mod {
	case 0x40:
		a.b(byte(disp))
	case 0x80:
		a.u32(uint32(disp))
	}
}

func fitsInt8(v int32) bool { return v >= -128 && v <= 127 }

// aluRR emits op dst, src for a register-form group-1 opcode (add, sub, and,
// or, xor, cmp, test, mov).
func (a *assembler) aluRR(op byte, w bool, dst, src reg) { a.rr(0, w, false, []byte{op}, src, dst) }

// aluRI emits op dst, imm for a group-1 extension; 64-bit forms sign-extend
// the immediate.
func (a *assembler) aluRI(ext byte, w bool, dst reg, imm int32) {
	if fitsInt8(imm) {
		a.rr(0, w, false, []byte{0x83}, reg(ext), dst)
		a.b(byte(imm))
		return
	}
	a.rr(0, w, false, []byte{0x81}, reg(ext), dst)
	a.u32(uint32(imm))
}

// aluMI emits op [base+disp], imm (64-bit).
func (a *assembler) aluMI(ext byte, base reg, disp int32, imm int32) {
	if fitsInt8(imm) {
		a.rm(0, true, false, []byte{0x83}, reg(ext), base, disp)
		a.b(byte(imm))
		return
	}
	a.rm(0, true, false, []byte{0x81}, reg(ext), base, disp)
	a.u32(uint32(imm))
}

// testRI emits test dst, imm.
func (a *assembler) testRI(w bool, dst reg, imm int32) {
	a.rr(0, w, false, []byte{0xf7}, 0, dst)
	a.u32(uint32(imm))
}

// movRR emits mov dst, src; the 32-bit form zero-extends.
func (a *assembler) movRR(w bool, dst, src reg) { a.aluRR(opMov, w, dst, src) }

// movImm sets dst to a 64-bit value with the shortest encoding.
func (a *assembler) movImm(dst reg, v uint64) {
	switch {
	case v == 0:
		a.aluRR(opXor, false, dst, dst)
	case v <= 0xffffffff: // mov r32, imm32 zero-extends
		a.rex(false, 0, dst, false)
		a.b(0xb8 + byte(dst&7))
		a.u32(uint32(v))
	case int64(v) >= -1<<31 && int64(v) < 1<<31: // mov r/m64, imm32 sign-extends
		a.rr(0, true, false, []byte{0xc7}, 0, dst)
		a.u32(uint32(v))
	default:
		a.rex(true, 0, dst, false)
		a.b(0xb8 + byte(dst&7))
		a.u64(v)
	}
}

// movImm32 sets the low half of dst and clears the high half.
func (a *assembler) movImm32(dst reg, v uint32) { a.movImm(dst, uint64(v)) }

// load emits mov dst, [base+disp] (64- or 32-bit).
func (a *assembler) load(w bool, dst, base reg, disp int32) {
	a.rm(0, w, false, []byte{0x8b}, dst, base, disp)
}

// store emits mov [base+disp], src (64- or 32-bit).
func (a *assembler) store(w bool, base reg, disp int32, src reg) {
	a.rm(0, w, false, []byte{0x89}, src, base, disp)
}

// lea emits lea dst, [base+disp].
func (a *assembler) lea(dst, base reg, disp int32) {
	a.rm(0, true, false, []byte{0x8d}, dst, base, disp)
}

// leaLabel emits lea dst, [rip+l].
func (a *assembler) leaLabel(dst reg, l label) {
	a.rex(true, dst, 0, false)
	a.b(0x8d, 0x05|byte(dst&7)<<3)
	a.rel32(l)
}

// shiftRI emits a shift or rotate of dst by a constant count.
func (a *assembler) shiftRI(pfx byte, ext byte, w bool, dst reg, n uint8) {
	a.rr(pfx, w, false, []byte{0xc1}, reg(ext), dst)
	a.b(n)
}

// shiftRCL emits a shift of dst by cl.
func (a *assembler) shiftRCL(ext byte, w bool, dst reg) {
	a.rr(0, w, false, []byte{0xd3}, reg(ext), dst)
}

// unary emits a group-3 instruction (0xf7 /ext): neg (3), div (6), idiv (7).
func (a *assembler) unary(ext byte, w bool, r reg) { a.rr(0, w, false, []byte{0xf7}, reg(ext), r) }

// Group-3 extensions.
const (
	extNeg  = 3
	extMul  = 4 // unsigned rdx:rax = rax * operand
	extDiv  = 6
	extIdiv = 7
)

// jmp emits jmp l.
func (a *assembler) jmp(l label) {
	a.b(0xe9)
	a.rel32(l)
}

// jcc emits a conditional jump to l.
func (a *assembler) jcc(cc byte, l label) {
	a.b(0x0f, 0x80|cc)
	a.rel32(l)
}

// jmpMem emits jmp [base+disp].
func (a *assembler) jmpMem(base reg, disp int32) {
	a.rm(0, false, false, []byte{0xff}, 4, base, disp)
}

func (a *assembler) ret() { a.b(0xc3) }
