package platform

import (
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
)

// Rewrite returns a copy of prog in which every context access listed in
// ctxAccess is translated to the context's host layout (HostAccess). Each
// rewritten instruction stays one instruction, so jump offsets and line info
// are unaffected.
//
// The contract with the verifier: ctxAccess holds the slot index of every
// load (LDX, including sign-extending loads) or store (STX, ST) whose base
// register points to the context, and of no other instruction. The verifier
// knows which those are from its type domain (the context pointer arrives in
// r1 and may be copied, spilled and filled); this package cannot tell on its
// own. Like Linux, the verifier must also have ensured that the base register
// holds the context pointer itself, with no constant or variable offset added,
// so that the instruction's offset is the field offset; that every access was
// accepted by desc.Check; and that no instruction accesses the context on one
// path and other memory on another. Rewrite checks each listed access again
// and fails (wrapping ErrRewrite, ErrContextAccess or ErrNotHosted) rather
// than emit a wrong translation. Duplicate indices are ignored.
func Rewrite(prog []isa.Instruction, desc *ContextDescriptor, ctxAccess []int) ([]isa.Instruction, error) {
	if desc == nil || desc.Host == nil {
		name := "<none>"
		if desc != nil {
			name = desc.Name
		}
		return nil, fmt.Errorf("%w: context %s", ErrNotHosted, name)
	}
	out := make([]isa.Instruction, len(prog))
	copy(out, prog)
	done := make(map[int]bool, len(ctxAccess))
	for _, pc := range ctxAccess {
		if done[pc] {
			continue
		}
		if pc < 0 || pc >= len(prog) {
			return nil, fmt.Errorf("%w: instruction index %d outside the %d-slot program", ErrRewrite, pc, len(prog))
		}
		ins, err := RewriteInstruction(prog[pc], desc)
		if err != nil {
			return nil, fmt.Errorf("instruction %d: %w", pc, err)
		}
		out[pc] = ins
		done[pc] = true
	}
	return out, nil
}

// RewriteInstruction translates one context load or store to the host layout
// of desc. See Rewrite for the contract.
func RewriteInstruction(ins isa.Instruction, desc *ContextDescriptor) (isa.Instruction, error) {
	op := ins.Opcode
	var write bool
	switch {
	case op.Class() == isa.ClassLDX && (op.Mode() == isa.ModeMEM || op.Mode() == isa.ModeMEMSX):
	case (op.Class() == isa.ClassSTX || op.Class() == isa.ClassST) && op.Mode() == isa.ModeMEM:
		write = true
	default:
		return ins, fmt.Errorf("%w: opcode %#02x is not a plain load or store", ErrRewrite, uint8(op))
	}
	size := op.Size().Bytes()
	hostOff, hostSize, err := desc.HostAccess(int(ins.Offset), size, write)
	if err != nil {
		return ins, err
	}
	if hostSize != size && op.Mode() == isa.ModeMEMSX {
		return ins, fmt.Errorf("%w: sign-extending load of a %d-byte pointer field at offset %d", ErrRewrite, size, ins.Offset)
	}
	if hostOff < -1<<15 || hostOff >= 1<<15 {
		return ins, fmt.Errorf("%w: host offset %d does not fit 16 bits", ErrRewrite, hostOff)
	}
	ins.Opcode = op&^isa.Opcode(0x18) | isa.Opcode(sizeCode(hostSize))
	ins.Offset = int16(hostOff)
	return ins, nil
}

func sizeCode(n int) isa.Size {
	switch n {
	case 1:
		return isa.SizeB
	case 2:
		return isa.SizeH
	case 4:
		return isa.SizeW
	}
	return isa.SizeDW
}
