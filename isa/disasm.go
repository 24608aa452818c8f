package isa

import (
	"fmt"
	"strings"
)

// Disassemble prints a program in the dialect Assemble reads, one
// instruction per line, with jump targets as signed offsets. For any program
// that passes Validate, Assemble(Disassemble(p)) returns p.
func Disassemble(prog []Instruction) string {
	var b strings.Builder
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		if ins.IsLoadImm64() && pc+1 < len(prog) {
			if ins.Src == PseudoImm64 {
				fmt.Fprintf(&b, "lddw %%r%d, %#x\n", ins.Dst, Imm64(ins, prog[pc+1]))
			} else { // the dialect has no syntax for the other source forms
				fmt.Fprintf(&b, ".raw %x # lddw src=%d\n.raw %x\n", ins.AppendEncoded(nil), ins.Src, prog[pc+1].AppendEncoded(nil))
			}
			pc++
			continue
		}
		b.WriteString(ins.Text())
		b.WriteByte('\n')
	}
	return b.String()
}

var aluNames = map[ALUOp]string{
	ALUAdd: "add", ALUSub: "sub", ALUMul: "mul", ALUDiv: "div", ALUOr: "or", ALUAnd: "and",
	ALULsh: "lsh", ALURsh: "rsh", ALUMod: "mod", ALUXor: "xor", ALUMov: "mov", ALUArsh: "arsh",
}

var jumpNames = map[JumpOp]string{
	JumpEq: "jeq", JumpGT: "jgt", JumpGE: "jge", JumpSet: "jset", JumpNE: "jne", JumpSGT: "jsgt",
	JumpSGE: "jsge", JumpLT: "jlt", JumpLE: "jle", JumpSLT: "jslt", JumpSLE: "jsle",
}

var atomicNames = map[int32]string{AtomicAdd: "add", AtomicOr: "or", AtomicAnd: "and", AtomicXor: "xor", AtomicXchg: "xchg", AtomicCmpXchg: "cmpxchg"}

// Text returns one slot in the conformance dialect. A slot it cannot name
// (an unknown opcode, or the second half of an lddw) is printed as a ".raw"
// directive with its hex encoding.
func (ins Instruction) Text() string {
	op := ins.Opcode
	raw := func() string { return fmt.Sprintf(".raw %x", ins.AppendEncoded(nil)) }
	signed := func(v int64) string { return fmt.Sprintf("%+d", v) }
	mem := func(r Register, off int16) string {
		if off == 0 {
			return fmt.Sprintf("[%%r%d]", r)
		}
		return fmt.Sprintf("[%%r%d%+d]", r, off)
	}
	switch cls := op.Class(); cls {
	case ClassALU, ClassALU64:
		suffix := ""
		if cls == ClassALU {
			suffix = "32"
		}
		switch aop := op.ALUOp(); aop {
		case ALUNeg:
			return fmt.Sprintf("neg%s %%r%d", suffix, ins.Dst)
		case ALUEnd:
			switch {
			case cls == ClassALU64:
				return fmt.Sprintf("bswap%d %%r%d", ins.Imm, ins.Dst)
			case op.Source() == SourceX:
				return fmt.Sprintf("be%d %%r%d", ins.Imm, ins.Dst)
			default:
				return fmt.Sprintf("le%d %%r%d", ins.Imm, ins.Dst)
			}
		default:
			name, ok := aluNames[aop]
			if !ok {
				return raw()
			}
			if (aop == ALUDiv || aop == ALUMod) && ins.Offset == 1 {
				name = "s" + name
			}
			if aop == ALUMov && op.Source() == SourceX && ins.Offset != 0 {
				to := 64
				if cls == ClassALU {
					to = 32
				}
				return fmt.Sprintf("movsx%d%d %%r%d, %%r%d", ins.Offset, to, ins.Dst, ins.Src)
			}
			if op.Source() == SourceX {
				return fmt.Sprintf("%s%s %%r%d, %%r%d", name, suffix, ins.Dst, ins.Src)
			}
			return fmt.Sprintf("%s%s %%r%d, %d", name, suffix, ins.Dst, ins.Imm)
		}
	case ClassJMP, ClassJMP32:
		suffix := ""
		if cls == ClassJMP32 {
			suffix = "32"
		}
		switch jop := op.JumpOp(); jop {
		case JumpA:
			if cls == ClassJMP32 {
				return "ja32 " + signed(int64(ins.Imm))
			}
			return "ja " + signed(int64(ins.Offset))
		case JumpCall:
			switch {
			case op.Source() == SourceX:
				return fmt.Sprintf("call %%r%d", ins.Dst)
			case ins.Src == CallLocal:
				return "call local " + signed(int64(ins.Imm))
			case ins.Src == CallKfunc:
				return raw()
			}
			return fmt.Sprintf("call %d", ins.Imm)
		case JumpExit:
			return "exit"
		default:
			name, ok := jumpNames[jop]
			if !ok {
				return raw()
			}
			if op.Source() == SourceX {
				return fmt.Sprintf("%s%s %%r%d, %%r%d, %s", name, suffix, ins.Dst, ins.Src, signed(int64(ins.Offset)))
			}
			return fmt.Sprintf("%s%s %%r%d, %d, %s", name, suffix, ins.Dst, ins.Imm, signed(int64(ins.Offset)))
		}
	case ClassLD:
		switch op.Mode() {
		case ModeABS:
			return fmt.Sprintf("ldabs%s %d", op.Size(), ins.Imm)
		case ModeIND:
			return fmt.Sprintf("ldind%s %%r%d, %d", op.Size(), ins.Src, ins.Imm)
		}
	case ClassLDX:
		s := ""
		if op.Mode() == ModeMEMSX {
			s = "s"
		}
		return fmt.Sprintf("ldx%s%s %%r%d, %s", s, op.Size(), ins.Dst, mem(ins.Src, ins.Offset))
	case ClassST:
		return fmt.Sprintf("st%s %s, %d", op.Size(), mem(ins.Dst, ins.Offset), ins.Imm)
	case ClassSTX:
		if op.Mode() == ModeATOMIC {
			name, ok := atomicNames[ins.Imm&^AtomicFetch]
			if ins.Imm == AtomicXchg || ins.Imm == AtomicCmpXchg {
				name, ok = atomicNames[ins.Imm]
			} else if ins.Imm&AtomicFetch != 0 {
				name = "fetch " + name
			}
			if !ok {
				return raw()
			}
			if op.Size() == SizeW {
				name += "32"
			}
			return fmt.Sprintf("lock %s %s, %%r%d", name, mem(ins.Dst, ins.Offset), ins.Src)
		}
		return fmt.Sprintf("stx%s %s, %%r%d", op.Size(), mem(ins.Dst, ins.Offset), ins.Src)
	}
	return raw()
}
