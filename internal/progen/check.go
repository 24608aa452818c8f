package progen

import (
	"errors"
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
)

// ErrContract is wrapped by every error Check returns.
var ErrContract = errors.New("program breaks the generator's contract")

// Check reports whether a program keeps the contract that generated programs
// keep (see the package documentation), independently of how it was made:
// it is valid (isa.Validate); it has no calls, legacy packet loads or lddw
// pseudo forms; r10 is only the base of memory accesses, and those are
// r10-relative, in the frame and aligned; loads and atomics read only bytes
// that every path to them wrote; immediate shifts are in range and
// immediate divisors are not zero; every instruction is reachable. It does
// not prove termination. Minimize uses it to keep reduced programs
// meaningful.
func Check(prog []isa.Instruction) error {
	if err := isa.Validate(prog); err != nil {
		return fmt.Errorf("%w: %w", ErrContract, err)
	}
	for pc := 0; pc < len(prog); pc++ {
		if err := checkForm(prog[pc]); err != nil {
			return fmt.Errorf("%w: instruction %d (%s): %s", ErrContract, pc, prog[pc].Text(), err)
		}
		if prog[pc].IsLoadImm64() {
			pc++
		}
	}
	return checkStackReads(prog)
}

// checkForm checks one instruction on its own.
func checkForm(ins isa.Instruction) error {
	op := ins.Opcode
	readsR10 := func(regs ...isa.Register) error {
		for _, r := range regs {
			if r == isa.RFP {
				return errors.New("reads r10 as a value")
			}
		}
		return nil
	}
	frame := func() error {
		n := op.Size().Bytes()
		if off := int(ins.Offset); off < -frameSize || off > -n || off%n != 0 {
			return fmt.Errorf("stack offset %d is outside the frame or not aligned to %d", off, n)
		}
		return nil
	}
	switch cls := op.Class(); cls {
	case isa.ClassALU, isa.ClassALU64:
		if op.Source() == isa.SourceX {
			return readsR10(ins.Src)
		}
		width := int32(64)
		if cls == isa.ClassALU {
			width = 32
		}
		switch op.ALUOp() {
		case isa.ALULsh, isa.ALURsh, isa.ALUArsh:
			if ins.Imm < 0 || ins.Imm >= width {
				return fmt.Errorf("shift by %d is out of range", ins.Imm)
			}
		case isa.ALUDiv, isa.ALUMod:
			if ins.Imm == 0 {
				return errors.New("divides by the immediate 0")
			}
		}
		return nil
	case isa.ClassJMP, isa.ClassJMP32:
		if ins.IsCall() {
			return errors.New("calls are not part of the contract")
		}
		if ins.IsConditionalJump() {
			if op.Source() == isa.SourceX {
				return readsR10(ins.Dst, ins.Src)
			}
			return readsR10(ins.Dst)
		}
		return nil
	case isa.ClassLD:
		if !ins.IsLoadImm64() || ins.Src != isa.PseudoImm64 {
			return errors.New("only plain lddw loads are part of the contract")
		}
		return nil
	case isa.ClassLDX:
		if ins.Src != isa.RFP {
			return errors.New("load is not r10-relative")
		}
		return frame()
	case isa.ClassST:
		if ins.Dst != isa.RFP {
			return errors.New("store is not r10-relative")
		}
		return frame()
	default: // STX
		if ins.Dst != isa.RFP {
			return errors.New("store is not r10-relative")
		}
		if err := readsR10(ins.Src); err != nil {
			return err
		}
		return frame()
	}
}

// successors returns the slots control can reach from pc.
func successors(prog []isa.Instruction, pc int) []int {
	ins := prog[pc]
	switch {
	case ins.IsExit():
		return nil
	case ins.IsLoadImm64():
		return []int{pc + 2}
	case ins.IsJumpA():
		t, _ := ins.BranchTarget(pc)
		return []int{t}
	case ins.IsConditionalJump():
		t, _ := ins.BranchTarget(pc)
		return []int{pc + 1, t}
	}
	return []int{pc + 1}
}

// checkStackReads finds, by a forward must-analysis over the control-flow
// graph, the stack bytes written on every path to each instruction, and
// fails on the first read of a byte not among them. It also fails on
// unreachable instructions.
func checkStackReads(prog []isa.Instruction) error {
	n := len(prog)
	in := make([]stackSet, n)
	reached := make([]bool, n)
	var all stackSet
	for i := range all {
		all[i] = ^uint64(0)
	}
	for i := range in {
		in[i] = all
	}
	in[0], reached[0] = stackSet{}, true

	// Iterate to the fixed point. Sets only shrink, so this ends; programs
	// whose jumps go forward settle in two passes.
	for changed := true; changed; {
		changed = false
		for pc := 0; pc < n; pc++ {
			if !reached[pc] {
				continue
			}
			out := in[pc]
			if ins := prog[pc]; ins.Opcode.Class() == isa.ClassST || ins.Opcode.Class() == isa.ClassSTX {
				out.add(int(ins.Offset), ins.Opcode.Size().Bytes())
			}
			for _, s := range successors(prog, pc) {
				next := in[s].intersect(out)
				if !reached[s] || next != in[s] {
					in[s], reached[s], changed = next, true, true
				}
			}
		}
	}

	for pc := 0; pc < n; pc++ {
		ins := prog[pc]
		if !reached[pc] {
			if pc > 0 && prog[pc-1].IsLoadImm64() {
				continue // the second slot of an lddw
			}
			return fmt.Errorf("%w: instruction %d (%s) is unreachable", ErrContract, pc, ins.Text())
		}
		reads := ins.Opcode.Class() == isa.ClassLDX ||
			(ins.Opcode.Class() == isa.ClassSTX && ins.Opcode.Mode() == isa.ModeATOMIC)
		if reads && !in[pc].has(int(ins.Offset), ins.Opcode.Size().Bytes()) {
			return fmt.Errorf("%w: instruction %d (%s) reads stack bytes that some path leaves unwritten", ErrContract, pc, ins.Text())
		}
	}
	return nil
}
