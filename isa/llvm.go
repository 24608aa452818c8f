package isa

import (
	"errors"
	"fmt"
	"strings"
)

// This file prints instructions in the syntax of LLVM's BPF backend, as
// llvm-objdump -d shows them. LLVM 14 is the reference: for every instruction
// it decodes, the text is the same byte for byte (immediates and offsets in
// decimal, as llvm-objdump prints them without --print-imm-hex, which later
// releases made the default). Where LLVM 14 prints nothing useful, newer
// LLVM's syntax is used:
//
//   - modulo (r1 %= r2): LLVM 14 has no modulo instruction;
//   - the ISA v4 forms (2023): signed division and modulo (r1 s/= r2,
//     w1 s%= 3), sign-extending moves (r1 = (s8)r2, w1 = (s16)w2) and loads
//     (r1 = *(s8 *)(r2 + 0)), bswap (r1 = bswap16 r1), gotol (gotol +5), and
//     store immediate (*(u64 *)(r10 - 8) = 1);
//   - jset (if r1 & r2 goto +1), which LLVM's assembler learnt in LLVM 18;
//   - callx names the dst register (callx r2), as LLVM 19 and later do;
//     LLVM 14 read the register from imm;
//   - 32-bit atomics use w registers throughout (w1 = atomic_fetch_and((u32 *)
//     (r10 - 8), w1), w0 = cmpxchg32_32(r10 - 8, w0, w1)), as llvm-objdump
//     --mattr=+alu32 prints them; without that option LLVM 14 decodes only the
//     add form (with r registers) and misreads the fetch forms as it.
//
// Two choices are ours. An lddw whose src selects a map, a BTF id or a
// function prints the reference in bpftool's style, keeping LLVM's " ll"
// suffix that marks the two-slot form: r1 = map[fd:5] ll, r1 =
// map[fd:5][0]+8 ll, r1 = map[idx:2] ll, r1 = map[idx:2][0]+8 ll, r1 =
// btf_id[42] ll, r1 = subprog[+3] ll (LLVM prints "ld_pseudo r1, 1, 5").
// A slot that Validate would reject prints as "<unknown 0xNN>" (an unknown
// opcode) or "<invalid 0xNN: field: reason>" (a known opcode with a bad
// field), where LLVM prints "<unknown>" or quietly ignores unused fields.
// Calls print imm whatever their kind (call 5 for a helper, call -3 for a
// local function, call 12345 for a kfunc), as LLVM does.

// FormatLLVM returns the instruction at index pc of prog in LLVM's BPF
// assembly syntax, e.g. "r2 = *(u32 *)(r1 + 4)" or "if w1 s> w2 goto -3",
// and the number of slots it takes: 2 for an lddw, 1 otherwise. It returns
// ("", 0) when pc is outside prog. Called on the second slot of an lddw, it
// prints that slot on its own, as an invalid instruction; step through a
// program by the slot counts it returns.
func FormatLLVM(prog []Instruction, pc int) (text string, slots int) {
	if pc < 0 || pc >= len(prog) {
		return "", 0
	}
	ins := prog[pc]
	if err := checkInstruction(pc, ins); err != nil {
		return invalidLLVM(ins, err), 1
	}
	if ins.IsLoadImm64() {
		if pc+1 >= len(prog) {
			return fmt.Sprintf("<invalid 0x%02x: lddw is truncated>", uint8(ins.Opcode)), 1
		}
		hi := prog[pc+1]
		if reason := loadImm64TailProblem(ins, hi); reason != "" {
			return fmt.Sprintf("<invalid 0x%02x: %s>", uint8(ins.Opcode), reason), 1
		}
		return formatLoadImm64LLVM(ins, hi), 2
	}
	return formatSlotLLVM(ins), 1
}

// DisassembleLLVM prints a whole program in LLVM's BPF syntax, one
// instruction per line, each prefixed with its slot index right-aligned in
// eight columns, a colon and a tab, as in the instruction column of
// llvm-objdump -d --no-show-raw-insn:
//
//	0:	r1 = 1
//	1:	r0 = 1234605616436508552 ll
//	3:	if r1 == 1 goto +2
//
// Unlike llvm-objdump it prints no branch-target annotations ("<.text+0x70>")
// and no section or symbol headers.
func DisassembleLLVM(prog []Instruction) string {
	var b strings.Builder
	for pc := 0; pc < len(prog); {
		text, n := FormatLLVM(prog, pc)
		fmt.Fprintf(&b, "%8d:\t%s\n", pc, text)
		pc += n
	}
	return b.String()
}

// invalidLLVM prints a slot that fails checkInstruction.
func invalidLLVM(ins Instruction, err error) string {
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field == "opcode" {
		return fmt.Sprintf("<unknown 0x%02x>", uint8(ins.Opcode))
	}
	return fmt.Sprintf("<invalid 0x%02x: %s: %s>", uint8(ins.Opcode), ve.Field, ve.Reason)
}

// loadImm64TailProblem applies Validate's rules for the second slot of an
// lddw and returns what is wrong with it, or "".
func loadImm64TailProblem(lo, hi Instruction) string {
	switch {
	case hi.Opcode != 0:
		return "second slot of lddw must have opcode 0"
	case hi.Dst != 0:
		return "second slot of lddw must have dst 0"
	case hi.Src != 0:
		return "second slot of lddw must have src 0"
	case hi.Offset != 0:
		return "second slot of lddw must have offset 0"
	case hi.Imm != 0 && (lo.Src == PseudoMapFD || lo.Src == PseudoMapIdx):
		return "second slot of a map lddw must have imm 0"
	}
	return ""
}

func formatLoadImm64LLVM(lo, hi Instruction) string {
	var what string
	switch lo.Src {
	case PseudoImm64:
		what = fmt.Sprint(int64(Imm64(lo, hi)))
	case PseudoMapFD:
		what = fmt.Sprintf("map[fd:%d]", lo.Imm)
	case PseudoMapValue:
		what = fmt.Sprintf("map[fd:%d][0]+%d", lo.Imm, uint32(hi.Imm))
	case PseudoBTFID:
		what = fmt.Sprintf("btf_id[%d]", lo.Imm)
	case PseudoFunc:
		what = fmt.Sprintf("subprog[%+d]", lo.Imm)
	case PseudoMapIdx:
		what = fmt.Sprintf("map[idx:%d]", lo.Imm)
	default: // PseudoMapIdxValue; checkInstruction rejects the rest
		what = fmt.Sprintf("map[idx:%d][0]+%d", lo.Imm, uint32(hi.Imm))
	}
	return fmt.Sprintf("r%d = %s ll", lo.Dst, what)
}

// LLVM's spelling of the compound assignment of each ALU operation.
var llvmALUOps = map[ALUOp]string{
	ALUAdd: "+=", ALUSub: "-=", ALUMul: "*=", ALUDiv: "/=", ALUOr: "|=", ALUAnd: "&=",
	ALULsh: "<<=", ALURsh: ">>=", ALUMod: "%=", ALUXor: "^=", ALUArsh: "s>>=",
}

// LLVM's spelling of each conditional jump's comparison.
var llvmJumpOps = map[JumpOp]string{
	JumpEq: "==", JumpGT: ">", JumpGE: ">=", JumpSet: "&", JumpNE: "!=", JumpSGT: "s>",
	JumpSGE: "s>=", JumpLT: "<", JumpLE: "<=", JumpSLT: "s<", JumpSLE: "s<=",
}

// LLVM's operator and function name of each atomic operation without fetch.
var llvmAtomicOps = map[int32][2]string{
	AtomicAdd: {"+=", "add"}, AtomicOr: {"|=", "or"}, AtomicAnd: {"&=", "and"}, AtomicXor: {"^=", "xor"},
}

// llvmMem prints a base register and offset as LLVM does: "r10 - 8", "r1 + 0".
func llvmMem(r Register, off int16) string {
	if off < 0 {
		return fmt.Sprintf("r%d - %d", r, -int(off))
	}
	return fmt.Sprintf("r%d + %d", r, off)
}

// llvmUnsigned names the unsigned type of an access size: u8, u16, u32, u64.
func llvmUnsigned(s Size) string { return fmt.Sprintf("u%d", s.Bytes()*8) }

// formatSlotLLVM prints one slot that passed checkInstruction and is not an lddw.
func formatSlotLLVM(ins Instruction) string {
	op := ins.Opcode
	switch cls := op.Class(); cls {
	case ClassALU, ClassALU64:
		p := "r"
		if cls == ClassALU {
			p = "w"
		}
		dst := fmt.Sprintf("%s%d", p, ins.Dst)
		src := fmt.Sprintf("%s%d", p, ins.Src)
		x := op.Source() == SourceX
		switch aop := op.ALUOp(); aop {
		case ALUNeg:
			return fmt.Sprintf("%s = -%s", dst, dst)
		case ALUEnd:
			// Byte swaps always name the 64-bit register.
			name := "le"
			switch {
			case cls == ClassALU64:
				name = "bswap"
			case x:
				name = "be"
			}
			return fmt.Sprintf("r%d = %s%d r%d", ins.Dst, name, ins.Imm, ins.Dst)
		case ALUMov:
			switch {
			case !x:
				return fmt.Sprintf("%s = %d", dst, ins.Imm)
			case ins.Offset != 0:
				return fmt.Sprintf("%s = (s%d)%s", dst, ins.Offset, src)
			}
			return fmt.Sprintf("%s = %s", dst, src)
		default:
			sym := llvmALUOps[aop]
			if (aop == ALUDiv || aop == ALUMod) && ins.Offset == 1 {
				sym = "s" + sym
			}
			if x {
				return fmt.Sprintf("%s %s %s", dst, sym, src)
			}
			return fmt.Sprintf("%s %s %d", dst, sym, ins.Imm)
		}

	case ClassJMP, ClassJMP32:
		switch jop := op.JumpOp(); jop {
		case JumpA:
			if cls == ClassJMP32 {
				return fmt.Sprintf("gotol %+d", ins.Imm)
			}
			return fmt.Sprintf("goto %+d", ins.Offset)
		case JumpCall:
			if op.Source() == SourceX {
				return fmt.Sprintf("callx r%d", ins.Dst)
			}
			return fmt.Sprintf("call %d", ins.Imm) // helper id, local offset or kfunc BTF id alike
		case JumpExit:
			return "exit"
		default:
			p := "r"
			if cls == ClassJMP32 {
				p = "w"
			}
			if op.Source() == SourceX {
				return fmt.Sprintf("if %s%d %s %s%d goto %+d", p, ins.Dst, llvmJumpOps[jop], p, ins.Src, ins.Offset)
			}
			return fmt.Sprintf("if %s%d %s %d goto %+d", p, ins.Dst, llvmJumpOps[jop], ins.Imm, ins.Offset)
		}

	case ClassLD: // legacy packet loads; lddw is handled by the caller
		if op.Mode() == ModeABS {
			return fmt.Sprintf("r0 = *(%s *)skb[%d]", llvmUnsigned(op.Size()), ins.Imm)
		}
		return fmt.Sprintf("r0 = *(%s *)skb[r%d]", llvmUnsigned(op.Size()), ins.Src)

	case ClassLDX:
		typ := llvmUnsigned(op.Size())
		if op.Mode() == ModeMEMSX {
			typ = "s" + typ[1:]
		}
		return fmt.Sprintf("r%d = *(%s *)(%s)", ins.Dst, typ, llvmMem(ins.Src, ins.Offset))

	case ClassST:
		return fmt.Sprintf("*(%s *)(%s) = %d", llvmUnsigned(op.Size()), llvmMem(ins.Dst, ins.Offset), ins.Imm)

	default: // ClassSTX
		mem := llvmMem(ins.Dst, ins.Offset)
		if op.Mode() == ModeMEM {
			return fmt.Sprintf("*(%s *)(%s) = r%d", llvmUnsigned(op.Size()), mem, ins.Src)
		}
		return formatAtomicLLVM(ins, mem)
	}
}

// formatAtomicLLVM prints an atomic read-modify-write; checkInstruction has
// accepted its size and operation.
func formatAtomicLLVM(ins Instruction, mem string) string {
	p, bits := "r", 64
	if ins.Opcode.Size() == SizeW {
		p, bits = "w", 32
	}
	switch ins.Imm {
	case AtomicXchg:
		if bits == 32 {
			return fmt.Sprintf("w%d = xchg32_32(%s, w%d)", ins.Src, mem, ins.Src)
		}
		return fmt.Sprintf("r%d = xchg_64(%s, r%d)", ins.Src, mem, ins.Src)
	case AtomicCmpXchg:
		if bits == 32 {
			return fmt.Sprintf("w0 = cmpxchg32_32(%s, w0, w%d)", mem, ins.Src)
		}
		return fmt.Sprintf("r0 = cmpxchg_64(%s, r0, r%d)", mem, ins.Src)
	}
	names := llvmAtomicOps[ins.Imm&^AtomicFetch]
	if ins.Imm&AtomicFetch != 0 {
		return fmt.Sprintf("%s%d = atomic_fetch_%s((u%d *)(%s), %s%d)", p, ins.Src, names[1], bits, mem, p, ins.Src)
	}
	return fmt.Sprintf("lock *(u%d *)(%s) %s %s%d", bits, mem, names[0], p, ins.Src)
}
