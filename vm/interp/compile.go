package interp

import (
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// Short names for building opcode constants.
const (
	ld    = uint8(isa.ClassLD)
	ldx   = uint8(isa.ClassLDX)
	st    = uint8(isa.ClassST)
	stx   = uint8(isa.ClassSTX)
	alu   = uint8(isa.ClassALU)
	jmp   = uint8(isa.ClassJMP)
	jmp32 = uint8(isa.ClassJMP32)
	alu64 = uint8(isa.ClassALU64)

	k = uint8(isa.SourceK)
	x = uint8(isa.SourceX)

	w  = uint8(isa.SizeW)
	h  = uint8(isa.SizeH)
	b  = uint8(isa.SizeB)
	dw = uint8(isa.SizeDW)

	mem   = uint8(isa.ModeMEM)
	memsx = uint8(isa.ModeMEMSX)
	abs   = uint8(isa.ModeABS)
	ind   = uint8(isa.ModeIND)
	atom  = uint8(isa.ModeATOMIC)
)

// Internal opcodes for instructions that share an opcode byte with another
// and differ in the offset or src field. Their values are opcodes that
// isa.Validate rejects, so they never collide with a real instruction.
const (
	opSdiv32K  = 0xe4
	opSdiv32X  = 0xec
	opSdiv64K  = 0xe7
	opSdiv64X  = 0xef
	opSmod32K  = 0xf4
	opSmod32X  = 0xfc
	opSmod64K  = 0xf7
	opSmod64X  = 0xff
	opMovsx64B = 0xe5
	opMovsx64H = 0xed
	opMovsx64W = 0xf5
	opMovsx32B = 0xe6
	opMovsx32H = 0xee
	opCallLoc  = 0x8e
)

// insn is a pre-decoded instruction.
type insn struct {
	op  uint8
	dst uint8
	src uint8
	_   uint8
	// off is the memory offset of loads and stores, the absolute target of
	// jumps and local calls, or the helper's index for helper calls.
	off int32
	// imm is the immediate sign-extended to 64 bits; lddw's full value.
	imm int64
}

// Engine is the interpreter. Its zero value is ready to use.
type Engine struct{}

// New returns the interpreter engine.
func New() *Engine { return &Engine{} }

// Name returns "interp".
func (*Engine) Name() string { return "interp" }

// Compile validates and pre-decodes a program.
func (*Engine) Compile(p *vm.Program, opts vm.CompileOptions) (vm.Executable, error) {
	prog := p.Instructions
	if err := isa.Validate(prog); err != nil {
		return nil, err
	}
	e := &executable{code: make([]insn, len(prog)), mode: opts.Mode, zero: p.ZeroEntryFrame, zeroCalls: p.ZeroCallFrames, helperTable: p.Helpers, funcs: map[int]bool{}}
	helperIndex := map[int32]int32{}
	kfuncIndex := map[int32]int32{} // kfunc calls index e.helpers too
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		d := insn{op: uint8(in.Opcode), dst: uint8(in.Dst), src: uint8(in.Src), off: int32(in.Offset), imm: int64(in.Imm)}
		if t, ok := in.BranchTarget(pc); ok {
			d.off = int32(t)
		}
		cls := in.Opcode.Class()
		switch {
		case in.IsLoadImm64() && in.Src == isa.PseudoFunc:
			// A function's address is its slot index; callbacks start there.
			d.imm = int64(pc + 1 + int(in.Imm))
			e.funcs[pc+1+int(in.Imm)] = true
			e.code[pc] = d
			e.code[pc+1] = insn{op: 0xf6}
			pc++
			continue
		case in.IsLoadImm64():
			if in.Src != isa.PseudoImm64 {
				return nil, &vm.CompileError{PC: pc, Err: fmt.Errorf("%w: lddw with source form %d must be resolved by the loader", vm.ErrUnsupported, in.Src)}
			}
			d.imm = int64(isa.Imm64(in, prog[pc+1]))
			e.code[pc] = d
			e.code[pc+1] = insn{op: 0xf6} // never executed: the lddw skips it
			pc++
			continue
		case cls.IsALU() && (in.Opcode.ALUOp() == isa.ALUDiv || in.Opcode.ALUOp() == isa.ALUMod) && in.Offset == 1:
			d.op = signedDivOp(in.Opcode)
		case cls.IsALU() && in.Opcode.ALUOp() == isa.ALUMov && in.Opcode.Source() == isa.SourceX && in.Offset != 0:
			d.op = movsxOp(cls, in.Offset)
		case in.Opcode == isa.OpCall && in.Src == isa.CallLocal:
			d.op = opCallLoc
		case in.Opcode == isa.OpCall && in.Src == isa.CallKfunc:
			h, ok := p.Kfuncs[in.Imm]
			if !ok || h == nil {
				return nil, &vm.CompileError{PC: pc, Err: fmt.Errorf("%w %d", vm.ErrUnknownKfunc, in.Imm)}
			}
			idx, seen := kfuncIndex[in.Imm]
			if !seen {
				idx = int32(len(e.helpers))
				kfuncIndex[in.Imm] = idx
				e.helpers = append(e.helpers, h)
			}
			d.off = idx
		case in.Opcode == isa.OpCall:
			h, ok := p.Helpers[in.Imm]
			if !ok || h == nil {
				return nil, &vm.CompileError{PC: pc, Err: fmt.Errorf("%w %d", vm.ErrUnknownHelper, in.Imm)}
			}
			idx, seen := helperIndex[in.Imm]
			if !seen {
				idx = int32(len(e.helpers))
				helperIndex[in.Imm] = idx
				e.helpers = append(e.helpers, h)
			}
			d.off = idx
		}
		e.code[pc] = d
	}
	if err := vm.CheckProbeLoads(p); err != nil {
		return nil, err
	}
	for _, pc := range p.ProbeLoads {
		e.code[pc].op = probeOp(prog[pc].Opcode)
	}
	return e, nil
}

func signedDivOp(op isa.Opcode) uint8 {
	div := op.ALUOp() == isa.ALUDiv
	reg := op.Source() == isa.SourceX
	if op.Class() == isa.ClassALU64 {
		switch {
		case div && reg:
			return opSdiv64X
		case div:
			return opSdiv64K
		case reg:
			return opSmod64X
		}
		return opSmod64K
	}
	switch {
	case div && reg:
		return opSdiv32X
	case div:
		return opSdiv32K
	case reg:
		return opSmod32X
	}
	return opSmod32K
}

func movsxOp(cls isa.Class, width int16) uint8 {
	if cls == isa.ClassALU64 {
		switch width {
		case 8:
			return opMovsx64B
		case 16:
			return opMovsx64H
		}
		return opMovsx64W
	}
	if width == 8 {
		return opMovsx32B
	}
	return opMovsx32H
}

type executable struct {
	code        []insn
	helpers     []vm.Helper
	helperTable vm.Helpers // for callx, which names helpers at run time
	mode        vm.Mode
	zero        bool // clear the entry frame at each run (vm.Program.ZeroEntryFrame)
	zeroCalls   bool // clear each frame a call enters (vm.Program.ZeroCallFrames)
	// funcs are the functions whose addresses the program takes: the only
	// valid callback targets.
	funcs map[int]bool
	// trace and orig are set in the copy a traced run uses (trace.go).
	trace func(vm.Executable, int, *[11]uint64)
	orig  *executable
}

func (e *executable) Close() error { return nil }
