package isa

import "fmt"

// Opcode is the 8-bit operation code of an instruction. Its low three bits are
// the instruction class; the meaning of the other five depends on the class
// (RFC 9669 section 3).
type Opcode uint8

// Class is the instruction class: the low three bits of an opcode.
type Class uint8

// Instruction classes.
const (
	ClassLD    Class = 0x00 // non-standard loads: lddw, legacy packet loads
	ClassLDX   Class = 0x01 // load into register
	ClassST    Class = 0x02 // store immediate
	ClassSTX   Class = 0x03 // store register, atomics
	ClassALU   Class = 0x04 // 32-bit arithmetic
	ClassJMP   Class = 0x05 // 64-bit jumps, calls, exit
	ClassJMP32 Class = 0x06 // 32-bit jumps
	ClassALU64 Class = 0x07 // 64-bit arithmetic
)

// Source selects the second operand of arithmetic and jump instructions.
type Source uint8

// Sources.
const (
	SourceK Source = 0x00 // the 32-bit immediate
	SourceX Source = 0x08 // the src register
)

// ALUOp is the operation of an arithmetic instruction: the high four bits.
type ALUOp uint8

// Arithmetic operations.
const (
	ALUAdd  ALUOp = 0x00
	ALUSub  ALUOp = 0x10
	ALUMul  ALUOp = 0x20
	ALUDiv  ALUOp = 0x30 // offset 1: signed
	ALUOr   ALUOp = 0x40
	ALUAnd  ALUOp = 0x50
	ALULsh  ALUOp = 0x60
	ALURsh  ALUOp = 0x70
	ALUNeg  ALUOp = 0x80
	ALUMod  ALUOp = 0x90 // offset 1: signed
	ALUXor  ALUOp = 0xa0
	ALUMov  ALUOp = 0xb0 // offset 8, 16, 32: sign-extending
	ALUArsh ALUOp = 0xc0
	ALUEnd  ALUOp = 0xd0 // byte swap; the source bit picks the target order
)

// JumpOp is the operation of a jump-class instruction: the high four bits.
type JumpOp uint8

// Jump operations.
const (
	JumpA    JumpOp = 0x00
	JumpEq   JumpOp = 0x10
	JumpGT   JumpOp = 0x20
	JumpGE   JumpOp = 0x30
	JumpSet  JumpOp = 0x40
	JumpNE   JumpOp = 0x50
	JumpSGT  JumpOp = 0x60
	JumpSGE  JumpOp = 0x70
	JumpCall JumpOp = 0x80
	JumpExit JumpOp = 0x90
	JumpLT   JumpOp = 0xa0
	JumpLE   JumpOp = 0xb0
	JumpSLT  JumpOp = 0xc0
	JumpSLE  JumpOp = 0xd0
)

// Size is the access width of a load or store: bits 3 and 4.
type Size uint8

// Access sizes.
const (
	SizeW  Size = 0x00 // 4 bytes
	SizeH  Size = 0x08 // 2 bytes
	SizeB  Size = 0x10 // 1 byte
	SizeDW Size = 0x18 // 8 bytes
)

// Mode is the addressing mode of a load or store: the high three bits.
type Mode uint8

// Addressing modes.
const (
	ModeIMM    Mode = 0x00 // lddw (64-bit immediate, two slots)
	ModeABS    Mode = 0x20 // legacy packet load at an absolute offset
	ModeIND    Mode = 0x40 // legacy packet load at a register plus offset
	ModeMEM    Mode = 0x60 // regular load or store
	ModeMEMSX  Mode = 0x80 // sign-extending load
	ModeATOMIC Mode = 0xc0 // atomic read-modify-write, in the STX class
)

// Atomic operations, held in the immediate of an atomic instruction.
const (
	AtomicAdd     int32 = 0x00
	AtomicOr      int32 = 0x40
	AtomicAnd     int32 = 0x50
	AtomicXor     int32 = 0xa0
	AtomicFetch   int32 = 0x01 // flag: return the old value in src
	AtomicXchg    int32 = 0xe0 | AtomicFetch
	AtomicCmpXchg int32 = 0xf0 | AtomicFetch
)

// Source-register values of lddw, selecting what the 64-bit immediate means
// (RFC 9669 section 5.4).
const (
	PseudoImm64       Register = 0 // the immediate itself
	PseudoMapFD       Register = 1 // the map whose file descriptor is imm
	PseudoMapValue    Register = 2 // address of map (by fd) value at offset next_imm
	PseudoBTFID       Register = 3 // address of the variable with BTF id imm
	PseudoFunc        Register = 4 // address of the instruction imm slots after this one
	PseudoMapIdx      Register = 5 // the map at index imm
	PseudoMapIdxValue Register = 6 // address of map (by index) value at offset next_imm
)

// Source-register values of call.
const (
	CallHelper Register = 0 // imm is a helper ID
	CallLocal  Register = 1 // imm is a relative slot offset to a BPF-to-BPF function
	CallKfunc  Register = 2 // imm is the BTF id of a kernel function
)

// Opcodes with fixed values that the rest of the project names directly.
const (
	OpLoadImm64 Opcode = Opcode(ClassLD) | Opcode(SizeDW) | Opcode(ModeIMM) // 0x18
	OpCall      Opcode = Opcode(ClassJMP) | Opcode(JumpCall)                // 0x85
	OpCallX     Opcode = Opcode(ClassJMP) | Opcode(JumpCall) | Opcode(SourceX)
	OpExit      Opcode = Opcode(ClassJMP) | Opcode(JumpExit) // 0x95
	OpJA        Opcode = Opcode(ClassJMP) | Opcode(JumpA)    // 0x05
	OpJA32      Opcode = Opcode(ClassJMP32) | Opcode(JumpA)  // 0x06: gotol, imm is the offset
)

// Class returns the instruction class.
func (op Opcode) Class() Class { return Class(op & 0x07) }

// Source returns the operand source of an ALU or jump opcode.
func (op Opcode) Source() Source { return Source(op & 0x08) }

// ALUOp returns the operation of an ALU or ALU64 opcode.
func (op Opcode) ALUOp() ALUOp { return ALUOp(op & 0xf0) }

// JumpOp returns the operation of a JMP or JMP32 opcode.
func (op Opcode) JumpOp() JumpOp { return JumpOp(op & 0xf0) }

// Size returns the access size of a load or store opcode.
func (op Opcode) Size() Size { return Size(op & 0x18) }

// Mode returns the addressing mode of a load or store opcode.
func (op Opcode) Mode() Mode { return Mode(op & 0xe0) }

// IsALU reports whether the class is ALU or ALU64.
func (c Class) IsALU() bool { return c == ClassALU || c == ClassALU64 }

// IsJump reports whether the class is JMP or JMP32.
func (c Class) IsJump() bool { return c == ClassJMP || c == ClassJMP32 }

// IsLoadStore reports whether the class is one of LD, LDX, ST, STX.
func (c Class) IsLoadStore() bool { return c <= ClassSTX }

// Bytes returns the access width in bytes.
func (s Size) Bytes() int {
	switch s {
	case SizeW:
		return 4
	case SizeH:
		return 2
	case SizeB:
		return 1
	default:
		return 8
	}
}

// String returns the suffix the assembler uses for the size: w, h, b or dw.
func (s Size) String() string {
	switch s {
	case SizeW:
		return "w"
	case SizeH:
		return "h"
	case SizeB:
		return "b"
	default:
		return "dw"
	}
}

func (c Class) String() string {
	switch c {
	case ClassLD:
		return "ld"
	case ClassLDX:
		return "ldx"
	case ClassST:
		return "st"
	case ClassSTX:
		return "stx"
	case ClassALU:
		return "alu"
	case ClassJMP:
		return "jmp"
	case ClassJMP32:
		return "jmp32"
	default:
		return "alu64"
	}
}

func (op Opcode) String() string { return fmt.Sprintf("%#02x", uint8(op)) }

// Register is an eBPF register number, 0 to 10.
type Register uint8

// Registers. R0 holds return values, R1 to R5 arguments, R6 to R9 are
// callee-saved and R10 is the read-only frame pointer.
const (
	R0 Register = iota
	R1
	R2
	R3
	R4
	R5
	R6
	R7
	R8
	R9
	R10
	// RFP is the frame pointer, R10.
	RFP = R10
)

// NumRegisters is the number of registers a program can name.
const NumRegisters = 11

func (r Register) String() string { return fmt.Sprintf("r%d", uint8(r)) }
