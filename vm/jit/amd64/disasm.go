package amd64

import (
	"fmt"
	"strings"
)

// A decoder for the x86-64 instructions the assembler emits (asm.go and
// the raw encodings of alu.go, memory.go, control.go), printed in Intel
// syntax as objdump -M intel does (lower case, ", " between operands,
// immediates in hex at the operand size). It decodes from the bytes, not
// from what the compiler meant to emit, so a listing shows what runs.
// Anything else decodes as "(bad)", one byte at a time; tests make sure
// generated code never does.

// x86 register names by operand size.
var (
	regs64 = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
	regs32 = [16]string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"}
	regs16 = [16]string{"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"}
	regs8  = [16]string{"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"}
	// Without a REX prefix, byte registers 4-7 are the high bytes.
	regs8Legacy = [8]string{"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"}

	group1Names = [8]string{"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"}
	shiftNames  = [8]string{"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"}
	group3Names = [8]string{"test", "test", "not", "neg", "mul", "imul", "div", "idiv"}
	ccNames     = [16]string{"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"}
	// One-byte "op r/m, r" forms.
	rmRegNames = map[byte]string{0x01: "add", 0x09: "or", 0x21: "and", 0x29: "sub", 0x31: "xor", 0x39: "cmp", 0x85: "test", 0x89: "mov", 0x87: "xchg"}
)

// decoder reads one instruction.
type decoder struct {
	code []byte
	at   int // next byte
	bad  bool

	rex     byte
	opsize  int // operand size in bytes: 2, 4 or 8
	hasRex  bool
	modrm   byte
	memText string // the r/m operand if it is memory, without size
	rip     bool   // r/m is rip-relative: disp is relative to the next instruction
	rel     bool   // a relative jump to disp from the next instruction
	disp    int64
}

func (d *decoder) byte() byte {
	if d.at >= len(d.code) {
		d.bad = true
		return 0
	}
	b := d.code[d.at]
	d.at++
	return b
}

func (d *decoder) imm(n int) int64 {
	var v uint64
	for i := range n {
		v |= uint64(d.byte()) << (8 * i)
	}
	shift := 64 - 8*n
	return int64(v<<shift) >> shift // sign-extended
}

// immText prints v as an unsigned number of size bytes.
func immText(v int64, size int) string {
	u := uint64(v)
	if size < 8 {
		u &= 1<<(8*size) - 1
	}
	return fmt.Sprintf("%#x", u)
}

func signedHex(v int64) string {
	if v < 0 {
		return fmt.Sprintf("-%#x", uint64(-v))
	}
	return fmt.Sprintf("+%#x", v)
}

// regName names register r (0-15) at a size in bytes.
func (d *decoder) regName(r byte, size int) string {
	switch size {
	case 8:
		return regs64[r]
	case 4:
		return regs32[r]
	case 2:
		return regs16[r]
	}
	if !d.hasRex && r < 8 {
		return regs8Legacy[r]
	}
	return regs8[r]
}

// readModRM reads ModRM and what follows it (SIB, displacement) and
// returns the reg field (extended by REX.R).
func (d *decoder) readModRM() byte {
	m := d.byte()
	d.modrm = m
	mod, rm := m>>6, m&7
	reg := (m>>3)&7 | (d.rex&4)<<1
	if mod == 3 {
		return reg
	}
	var base, index string
	scale := 1
	switch {
	case rm == 4:
		sib := d.byte()
		scale = 1 << (sib >> 6)
		if i := (sib>>3)&7 | (d.rex&2)<<2; i != 4 {
			index = regs64[i]
		}
		b := sib&7 | (d.rex&1)<<3
		if sib&7 == 5 && mod == 0 {
			d.disp = d.imm(4)
		} else {
			base = regs64[b]
		}
	case rm == 5 && mod == 0:
		d.rip = true
		d.disp = d.imm(4)
	default:
		base = regs64[rm|(d.rex&1)<<3]
	}
	switch mod {
	case 1:
		d.disp = d.imm(1)
	case 2:
		d.disp = d.imm(4)
	}
	var b strings.Builder
	b.WriteByte('[')
	switch {
	case d.rip:
		b.WriteString("rip")
	case base != "":
		b.WriteString(base)
	}
	if index != "" {
		if b.Len() > 1 {
			b.WriteByte('+')
		}
		fmt.Fprintf(&b, "%s*%d", index, scale)
	}
	if mod != 0 || d.rip || base == "" {
		if b.Len() == 1 {
			fmt.Fprintf(&b, "%#x", uint64(d.disp))
		} else {
			b.WriteString(signedHex(d.disp))
		}
	}
	b.WriteByte(']')
	d.memText = b.String()
	return reg
}

// rm returns the r/m operand at a size, with a size keyword for memory.
func (d *decoder) rm(size int) string {
	if d.modrm>>6 == 3 {
		return d.regName(d.modrm&7|(d.rex&1)<<3, size)
	}
	return sizeName(size) + " ptr " + d.memText
}

func sizeName(size int) string {
	switch size {
	case 1:
		return "byte"
	case 2:
		return "word"
	case 4:
		return "dword"
	}
	return "qword"
}

// decode decodes the instruction at code[off:]. It returns its length,
// its text, and the code offset it refers to (a jump target or a
// rip-relative address), -1 if none.
func decode(code []byte, off int) (n int, text string, ref int) {
	d := &decoder{code: code, at: off, opsize: 4}
	text = d.decode()
	ref = -1
	if d.bad || text == "" {
		return 1, "(bad)", -1
	}
	if d.rip {
		ref = d.at + int(d.disp)
	}
	if d.rel {
		ref = d.at + int(d.disp)
		text += fmt.Sprintf(" %#x", ref)
	}
	return d.at - off, text, ref
}

func (d *decoder) decode() string {
	lock := ""
	for d.at < len(d.code) && (d.code[d.at] == 0x66 || d.code[d.at] == 0xf0) {
		if d.code[d.at] == 0x66 {
			d.opsize = 2
		} else {
			lock = "lock "
		}
		d.at++
	}
	if d.at >= len(d.code) {
		return ""
	}
	if b := d.code[d.at]; b&0xf0 == 0x40 {
		d.rex, d.hasRex = b, true
		d.at++
		if b&8 != 0 {
			d.opsize = 8
		}
	}
	op := d.byte()
	if op == 0x0f {
		return lock + d.decode0F()
	}
	osz := d.opsize
	switch {
	case rmRegNames[op] != "":
		r := d.readModRM()
		return lock + rmRegNames[op] + " " + d.rm(osz) + ", " + d.regName(r, osz)
	case op == 0x88:
		r := d.readModRM()
		return "mov " + d.rm(1) + ", " + d.regName(r, 1)
	case op == 0x8b || op == 0x3b:
		r := d.readModRM()
		name := "mov"
		if op == 0x3b {
			name = "cmp"
		}
		return name + " " + d.regName(r, osz) + ", " + d.rm(osz)
	case op == 0x8d:
		r := d.readModRM()
		if d.modrm>>6 == 3 {
			return ""
		}
		return "lea " + d.regName(r, osz) + ", " + d.memText
	case op == 0x63:
		r := d.readModRM()
		return "movsxd " + d.regName(r, osz) + ", " + d.rm(4)
	case op == 0x69 || op == 0x6b:
		r := d.readModRM()
		size := 4
		if op == 0x6b {
			size = 1
		} else if osz == 2 {
			size = 2
		}
		return "imul " + d.regName(r, osz) + ", " + d.rm(osz) + ", " + immText(d.imm(size), osz)
	case op == 0x81 || op == 0x83:
		ext := d.readModRM() & 7
		size := 1
		if op == 0x81 {
			size = min(osz, 4)
		}
		return lock + group1Names[ext] + " " + d.rm(osz) + ", " + immText(d.imm(size), osz)
	case op == 0xc1 || op == 0xd3:
		ext := d.readModRM() & 7
		if op == 0xd3 {
			return shiftNames[ext] + " " + d.rm(osz) + ", cl"
		}
		return shiftNames[ext] + " " + d.rm(osz) + ", " + immText(d.imm(1), 1)
	case op == 0xc6 || op == 0xc7:
		if d.readModRM()&7 != 0 {
			return ""
		}
		if op == 0xc6 {
			return "mov " + d.rm(1) + ", " + immText(d.imm(1), 1)
		}
		return "mov " + d.rm(osz) + ", " + immText(d.imm(min(osz, 4)), osz)
	case op == 0xf7:
		ext := d.readModRM() & 7
		if ext < 2 {
			return "test " + d.rm(osz) + ", " + immText(d.imm(min(osz, 4)), osz)
		}
		return group3Names[ext] + " " + d.rm(osz)
	case op == 0xff:
		if d.readModRM()&7 != 4 {
			return ""
		}
		return "jmp " + d.rm(8)
	case op >= 0xb8 && op <= 0xbf:
		r := op&7 | (d.rex&1)<<3
		if osz == 8 {
			return "movabs " + regs64[r] + ", " + immText(d.imm(8), 8)
		}
		return "mov " + d.regName(r, osz) + ", " + immText(d.imm(osz), osz)
	case op == 0xe9:
		d.disp, d.rel = d.imm(4), true
		return "jmp"
	case op == 0xeb:
		d.disp, d.rel = d.imm(1), true
		return "jmp"
	case op == 0xc3:
		return "ret"
	case op == 0x99:
		switch osz {
		case 8:
			return "cqo"
		case 2:
			return "cwd"
		}
		return "cdq"
	}
	return ""
}

func (d *decoder) decode0F() string {
	op := d.byte()
	osz := d.opsize
	switch {
	case op >= 0x80 && op <= 0x8f:
		d.disp, d.rel = d.imm(4), true
		return "j" + ccNames[op&15]
	case op == 0xaf:
		r := d.readModRM()
		return "imul " + d.regName(r, osz) + ", " + d.rm(osz)
	case op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf:
		r := d.readModRM()
		name := "movzx"
		if op >= 0xbe {
			name = "movsx"
		}
		src := 1
		if op&1 != 0 {
			src = 2
		}
		return name + " " + d.regName(r, osz) + ", " + d.rm(src)
	case op == 0xc1 || op == 0xb1:
		r := d.readModRM()
		name := "xadd"
		if op == 0xb1 {
			name = "cmpxchg"
		}
		return name + " " + d.rm(osz) + ", " + d.regName(r, osz)
	case op >= 0xc8 && op <= 0xcf:
		return "bswap " + d.regName(op&7|(d.rex&1)<<3, osz)
	}
	return ""
}
