package isa

import (
	"encoding/binary"
	"fmt"
)

// InstructionSize is the size of one encoded instruction slot in bytes.
const InstructionSize = 8

// Instruction is one 8-byte instruction slot, decoded into its fields.
//
// A 64-bit immediate load (lddw) takes two slots: the first holds the opcode
// and the low 32 bits, the second has opcode 0 and holds the high 32 bits in
// its Imm. Programs keep both slots, so that an index into a program is a slot
// index, as jump offsets, BTF line info and the kernel count them.
type Instruction struct {
	Opcode Opcode
	Dst    Register // 4 bits on the wire
	Src    Register // 4 bits on the wire
	Offset int16
	Imm    int32
}

// Decode decodes little-endian bytecode into instruction slots. It fails only
// if the length is not a multiple of 8; use Validate to check the program.
func Decode(code []byte) ([]Instruction, error) {
	if len(code)%InstructionSize != 0 {
		return nil, fmt.Errorf("bytecode length %d is not a multiple of %d", len(code), InstructionSize)
	}
	prog := make([]Instruction, len(code)/InstructionSize)
	for i := range prog {
		prog[i] = DecodeInstruction(code[i*InstructionSize:])
	}
	return prog, nil
}

// DecodeInstruction decodes the first 8 bytes of b as one slot.
func DecodeInstruction(b []byte) Instruction {
	_ = b[7]
	return Instruction{
		Opcode: Opcode(b[0]),
		Dst:    Register(b[1] & 0x0f),
		Src:    Register(b[1] >> 4),
		Offset: int16(binary.LittleEndian.Uint16(b[2:])),
		Imm:    int32(binary.LittleEndian.Uint32(b[4:])),
	}
}

// Encode encodes instruction slots as little-endian bytecode. Registers above
// 15 do not fit in four bits and are truncated; Validate rejects them first.
func Encode(prog []Instruction) []byte {
	out := make([]byte, 0, len(prog)*InstructionSize)
	for _, ins := range prog {
		out = ins.AppendEncoded(out)
	}
	return out
}

// AppendEncoded appends the 8-byte encoding of the slot to b.
func (ins Instruction) AppendEncoded(b []byte) []byte {
	b = append(b, byte(ins.Opcode), byte(ins.Dst&0x0f)|byte(ins.Src&0x0f)<<4)
	b = binary.LittleEndian.AppendUint16(b, uint16(ins.Offset))
	return binary.LittleEndian.AppendUint32(b, uint32(ins.Imm))
}

// IsLoadImm64 reports whether the slot is the first half of an lddw.
func (ins Instruction) IsLoadImm64() bool { return ins.Opcode == OpLoadImm64 }

// LoadImm64 returns both slots of an lddw with the given source form and
// 64-bit immediate.
func LoadImm64(dst Register, src Register, imm uint64) [2]Instruction {
	return [2]Instruction{
		{Opcode: OpLoadImm64, Dst: dst, Src: src, Imm: int32(uint32(imm))},
		{Imm: int32(uint32(imm >> 32))},
	}
}

// Imm64 joins the immediates of an lddw's two slots into the 64-bit value.
func Imm64(lo, hi Instruction) uint64 {
	return uint64(uint32(lo.Imm)) | uint64(uint32(hi.Imm))<<32
}

// IsJumpA reports whether the slot is an unconditional jump (ja or gotol).
func (ins Instruction) IsJumpA() bool { return ins.Opcode == OpJA || ins.Opcode == OpJA32 }

// IsExit reports whether the slot is exit.
func (ins Instruction) IsExit() bool { return ins.Opcode == OpExit }

// IsCall reports whether the slot is a call of any kind (helper, local,
// kfunc) or a callx.
func (ins Instruction) IsCall() bool { return ins.Opcode == OpCall || ins.Opcode == OpCallX }

// IsLocalCall reports whether the slot is a BPF-to-BPF call.
func (ins Instruction) IsLocalCall() bool { return ins.Opcode == OpCall && ins.Src == CallLocal }

// IsConditionalJump reports whether the slot is a conditional jump.
func (ins Instruction) IsConditionalJump() bool {
	c := ins.Opcode.Class()
	if !c.IsJump() {
		return false
	}
	switch ins.Opcode.JumpOp() {
	case JumpA, JumpCall, JumpExit:
		return false
	}
	return true
}

// BranchTarget returns the slot index that the jump or local call at index
// pc transfers control to. ok is false for other instructions.
func (ins Instruction) BranchTarget(pc int) (target int, ok bool) {
	switch {
	case ins.Opcode == OpJA32:
		return pc + 1 + int(ins.Imm), true
	case ins.IsLocalCall():
		return pc + 1 + int(ins.Imm), true
	case ins.Opcode == OpJA || ins.IsConditionalJump():
		return pc + 1 + int(ins.Offset), true
	}
	return 0, false
}
