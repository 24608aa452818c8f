package daemon

import (
	"fmt"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
)

// kernelInsn prints the instruction at pc of insns as Linux's verifier and
// "bpftool prog dump xlated" print it (print_bpf_insn in the kernel's
// disasm.c), without the opcode prefix: memory operands as "(r1 +8)",
// jumps as "goto pc+3", a conditional jump's immediate in hex ("if r0 ==
// 0x0 goto pc+1"), a 64-bit immediate in hex ("r1 = 0x1"). mapRef, if not
// empty, is what an lddw of a map prints instead ("map[id:3]"). It
// returns the text and the slots the instruction takes.
//
// Where the kernel names a helper by its kernel function (from kallsyms:
// "__htab_map_lookup_elem#123456"), the helper's name and ID stand
// ("bpf_map_lookup_elem#1"): the nearest true equivalent; a kfunc, which
// the kernel names the same way, is "kfunc#ID" (its BTF ID).
func kernelInsn(insns []isa.Instruction, pc int, mapRef string) (string, int) {
	ins := insns[pc]
	op := ins.Opcode
	cls := op.Class()
	w := "r"
	if cls == isa.ClassALU || cls == isa.ClassJMP32 {
		w = "w"
	}
	size := kernelSizes[op.Size()]
	mem := func(r isa.Register) string { return fmt.Sprintf("(r%d %+d)", r, ins.Offset) }
	switch cls {
	case isa.ClassALU, isa.ClassALU64:
		aop := op.ALUOp()
		switch {
		case aop == isa.ALUEnd && cls == isa.ClassALU64:
			return fmt.Sprintf("r%d = bswap%d r%d", ins.Dst, ins.Imm, ins.Dst), 1
		case aop == isa.ALUEnd:
			order := "le"
			if op.Source() == isa.SourceX {
				order = "be"
			}
			return fmt.Sprintf("r%d = %s%d r%d", ins.Dst, order, ins.Imm, ins.Dst), 1
		case aop == isa.ALUNeg:
			return fmt.Sprintf("%s%d = -%s%d", w, ins.Dst, w, ins.Dst), 1
		}
		sym := kernelALU[aop]
		if (aop == isa.ALUDiv || aop == isa.ALUMod) && ins.Offset == 1 {
			sym = "s" + sym
		}
		if op.Source() == isa.SourceX {
			movsx := ""
			if aop == isa.ALUMov && (ins.Offset == 8 || ins.Offset == 16 || ins.Offset == 32) {
				movsx = fmt.Sprintf("(s%d)", ins.Offset)
			}
			return fmt.Sprintf("%s%d %s %s%s%d", w, ins.Dst, sym, movsx, w, ins.Src), 1
		}
		return fmt.Sprintf("%s%d %s %d", w, ins.Dst, sym, ins.Imm), 1

	case isa.ClassSTX:
		if op.Mode() == isa.ModeMEM {
			return fmt.Sprintf("*(%s *)%s = r%d", size, mem(ins.Dst), ins.Src), 1
		}
		bits := ""
		if op.Size() == isa.SizeDW {
			bits = "64"
		}
		switch ins.Imm {
		case isa.AtomicXchg:
			return fmt.Sprintf("r%d = atomic%s_xchg((%s *)%s, r%d)", ins.Src, bits, size, mem(ins.Dst), ins.Src), 1
		case isa.AtomicCmpXchg:
			return fmt.Sprintf("r0 = atomic%s_cmpxchg((%s *)%s, r0, r%d)", bits, size, mem(ins.Dst), ins.Src), 1
		}
		name := kernelAtomic[ins.Imm&^isa.AtomicFetch]
		if ins.Imm&isa.AtomicFetch != 0 {
			return fmt.Sprintf("r%d = atomic%s_fetch_%s((%s *)%s, r%d)", ins.Src, bits, name, size, mem(ins.Dst), ins.Src), 1
		}
		return fmt.Sprintf("lock *(%s *)%s %s r%d", size, mem(ins.Dst), kernelALU[isa.ALUOp(ins.Imm)], ins.Src), 1

	case isa.ClassST:
		return fmt.Sprintf("*(%s *)%s = %d", size, mem(ins.Dst), ins.Imm), 1

	case isa.ClassLDX:
		if op.Mode() == isa.ModeMEMSX {
			size = "s" + size[1:]
		}
		return fmt.Sprintf("r%d = *(%s *)%s", ins.Dst, size, mem(ins.Src)), 1

	case isa.ClassLD:
		switch {
		case op.Mode() == isa.ModeABS:
			return fmt.Sprintf("r0 = *(%s *)skb[%d]", size, ins.Imm), 1
		case op.Mode() == isa.ModeIND:
			return fmt.Sprintf("r0 = *(%s *)skb[r%d + %d]", size, ins.Src, ins.Imm), 1
		case ins.IsLoadImm64() && pc+1 < len(insns):
			hi := insns[pc+1]
			switch {
			case mapRef != "":
				return fmt.Sprintf("r%d = %s", ins.Dst, mapRef), 2
			case ins.Src == isa.PseudoFunc:
				return fmt.Sprintf("r%d = subprog[%+d]", ins.Dst, ins.Imm), 2
			}
			return fmt.Sprintf("r%d = 0x%x", ins.Dst, isa.Imm64(ins, hi)), 2
		}

	case isa.ClassJMP, isa.ClassJMP32:
		switch jop := op.JumpOp(); {
		case op == isa.OpCall && ins.Src == isa.CallLocal:
			return fmt.Sprintf("call pc%+d", ins.Imm), 1
		case op == isa.OpCall && ins.Src == isa.CallKfunc:
			return fmt.Sprintf("call kfunc#%d", ins.Imm), 1
		case op == isa.OpCall:
			return fmt.Sprintf("call %s#%d", bpfhost.HelperName(ins.Imm), ins.Imm), 1
		case op == isa.OpCallX:
			return fmt.Sprintf("callx r%d", ins.Dst), 1
		case op == isa.OpJA:
			return fmt.Sprintf("goto pc%+d", ins.Offset), 1
		case op == isa.OpJA32:
			return fmt.Sprintf("gotol pc%+d", ins.Imm), 1
		case op == isa.OpExit:
			return "exit", 1
		case op.Source() == isa.SourceX:
			return fmt.Sprintf("if %s%d %s %s%d goto pc%+d", w, ins.Dst, kernelJump[jop], w, ins.Src, ins.Offset), 1
		default:
			return fmt.Sprintf("if %s%d %s 0x%x goto pc%+d", w, ins.Dst, kernelJump[jop], uint32(ins.Imm), ins.Offset), 1
		}
	}
	// What the kernel prints for an opcode it does not know.
	return fmt.Sprintf("BUG_%02x", uint8(op)), 1
}

// The kernel's spellings (disasm.c: bpf_ldst_string, bpf_alu_string,
// bpf_atomic_alu_string, bpf_jmp_string).
var (
	kernelSizes = map[isa.Size]string{isa.SizeW: "u32", isa.SizeH: "u16", isa.SizeB: "u8", isa.SizeDW: "u64"}
	kernelALU   = map[isa.ALUOp]string{
		isa.ALUAdd: "+=", isa.ALUSub: "-=", isa.ALUMul: "*=", isa.ALUDiv: "/=", isa.ALUOr: "|=", isa.ALUAnd: "&=",
		isa.ALULsh: "<<=", isa.ALURsh: ">>=", isa.ALUMod: "%=", isa.ALUXor: "^=", isa.ALUMov: "=", isa.ALUArsh: "s>>=",
	}
	kernelAtomic = map[int32]string{isa.AtomicAdd: "add", isa.AtomicAnd: "and", isa.AtomicOr: "or", isa.AtomicXor: "xor"}
	kernelJump   = map[isa.JumpOp]string{
		isa.JumpEq: "==", isa.JumpGT: ">", isa.JumpLT: "<", isa.JumpGE: ">=", isa.JumpLE: "<=", isa.JumpSet: "&",
		isa.JumpNE: "!=", isa.JumpSGT: "s>", isa.JumpSLT: "s<", isa.JumpSGE: "s>=", isa.JumpSLE: "s<=",
	}
)
