// Package ctxflow finds the loads and stores of a program that go through its
// context pointer, so that they can be rewritten from the Linux context layout
// to the host's (DESIGN.md #1) before the program runs.
//
// It is a small forward dataflow analysis over the control-flow graph: the
// context pointer enters in r1, moves between registers with mov, and may be
// spilled to and filled from the stack with 8-byte stores and loads at
// constant offsets from r10. BPF-to-BPF calls pass it on in r1 to r5. Like
// the Linux verifier, it accepts context accesses only through the unmodified
// pointer (register plus constant offset) and rejects a memory access whose
// base register is the context on one path and something else on another.
//
// The verifier proves much more than this and computes the same set for
// verified programs; this analysis supplies the rewrite's input only for
// programs loaded unverified (CollectionOptions.Unverified).
package ctxflow

import (
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// value is what the analysis knows about a register or stack slot.
type value uint8

const (
	bottom  value = iota // not reached yet
	other                // anything but the context pointer
	ctx                  // exactly the context pointer
	derived              // computed from the context pointer by arithmetic
	mixed                // the context pointer on some paths only
)

func join(a, b value) value {
	switch {
	case a == bottom:
		return b
	case b == bottom || a == b:
		return a
	}
	return mixed
}

const slots = vm.StackSize / 8

// state is the abstract state before an instruction, within one function.
type state struct {
	reached bool
	regs    [isa.NumRegisters]value
	stack   [slots]value // 8-byte slots of the current frame, index (off+512)/8
}

func (s *state) join(o *state) bool {
	if !o.reached {
		return false
	}
	if !s.reached {
		*s = *o
		return true
	}
	changed := false
	for i := range s.regs {
		if j := join(s.regs[i], o.regs[i]); j != s.regs[i] {
			s.regs[i], changed = j, true
		}
	}
	for i := range s.stack {
		if j := join(s.stack[i], o.stack[i]); j != s.stack[i] {
			s.stack[i], changed = j, true
		}
	}
	return changed
}

// Access is one instruction that loads from or stores to the context.
type Access struct {
	PC     int
	Offset int // offset into the Linux context structure
	Size   int // bytes
	Write  bool
}

// Error is a program whose context use the analysis cannot follow.
type Error struct {
	PC     int
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("instruction %d: %s", e.PC, e.Reason) }

// Find returns the context accesses of a validated program, in instruction
// order. It fails if some memory access may or may not go through the context
// depending on the path taken, or if the context pointer is modified and then
// dereferenced.
func Find(prog []isa.Instruction) ([]Access, error) {
	if err := isa.Validate(prog); err != nil {
		return nil, err
	}
	a := &analysis{prog: prog, states: make([]state, len(prog)), entry: map[int]*state{}}
	start := state{reached: true}
	for i := range start.regs {
		start.regs[i] = other
	}
	for i := range start.stack {
		start.stack[i] = bottom // uninitialised: the verifier rejects reads
	}
	start.regs[isa.R1] = ctx
	a.enter(0, &start)
	if err := a.run(); err != nil {
		return nil, err
	}
	return a.collect()
}

type analysis struct {
	prog   []isa.Instruction
	states []state
	// entry holds the joined register state at each function entry, from all
	// its call sites; returns are handled conservatively (see transfer).
	entry map[int]*state
	work  []int
}

func (a *analysis) enter(pc int, s *state) {
	if a.states[pc].join(s) {
		a.work = append(a.work, pc)
	}
}

func (a *analysis) run() error {
	for len(a.work) > 0 {
		pc := a.work[len(a.work)-1]
		a.work = a.work[:len(a.work)-1]
		if err := a.transfer(pc); err != nil {
			return err
		}
	}
	return nil
}

func (a *analysis) transfer(pc int) error {
	in := a.prog[pc]
	s := a.states[pc] // copy
	next := pc + 1
	op := in.Opcode
	cls := op.Class()

	set := func(r isa.Register, v value) { s.regs[r] = v }
	slot := func(off int16, size int) (int, bool) {
		o := int(off) + vm.StackSize
		if o < 0 || o+size > vm.StackSize || int(off)%8 != 0 || size != 8 {
			return 0, false
		}
		return o / 8, true
	}
	// Stores of part of a slot, or at unaligned offsets, make the slots
	// they touch plain data.
	clobber := func(off int16, size int) {
		lo := int(off) + vm.StackSize
		for b := lo; b < lo+size; b++ {
			if b >= 0 && b < vm.StackSize {
				s.stack[b/8] = other
			}
		}
	}

	switch {
	case cls.IsALU():
		if op.ALUOp() == isa.ALUMov {
			// A move replaces the register: a plain 64-bit copy keeps what
			// the source is; anything else (an immediate, a 32-bit or
			// sign-extending move) is not a pointer.
			v := other
			if op.Source() == isa.SourceX && cls == isa.ClassALU64 && in.Offset == 0 {
				v = s.regs[in.Src]
			}
			set(in.Dst, v)
		} else if s.regs[in.Dst] == ctx || s.regs[in.Dst] == derived || s.regs[in.Dst] == mixed ||
			(op.Source() == isa.SourceX && (s.regs[in.Src] == ctx || s.regs[in.Src] == derived)) {
			// Arithmetic on the context pointer gives a pointer that Linux
			// refuses to dereference, and so do we (see collect).
			set(in.Dst, derived)
		} else {
			set(in.Dst, other)
		}
	case in.IsLoadImm64():
		set(in.Dst, other)
		next = pc + 2
	case cls == isa.ClassLDX:
		if err := checkBase(pc, in.Src, s.regs[in.Src]); err != nil {
			return err
		}
		v := other
		if in.Src == isa.RFP && op.Mode() == isa.ModeMEM {
			if i, ok := slot(in.Offset, op.Size().Bytes()); ok {
				v = s.stack[i]
				if v == bottom {
					v = other
				}
			}
		}
		set(in.Dst, v)
	case cls == isa.ClassST || cls == isa.ClassSTX:
		if err := checkBase(pc, in.Dst, s.regs[in.Dst]); err != nil {
			return err
		}
		if in.Dst == isa.RFP {
			size := op.Size().Bytes()
			if i, ok := slot(in.Offset, size); ok && cls == isa.ClassSTX && op.Mode() == isa.ModeMEM {
				s.stack[i] = s.regs[in.Src]
			} else {
				clobber(in.Offset, size)
			}
		}
		if cls == isa.ClassSTX && op.Mode() == isa.ModeATOMIC {
			if in.Imm&isa.AtomicFetch != 0 && in.Imm != isa.AtomicCmpXchg {
				set(in.Src, other)
			}
			if in.Imm == isa.AtomicCmpXchg {
				set(isa.R0, other)
			}
		}
	case cls == isa.ClassLD: // legacy packet loads clobber r0-r5
		for r := isa.R0; r <= isa.R5; r++ {
			set(r, other)
		}
	case in.IsLocalCall():
		target, _ := in.BranchTarget(pc)
		callee := state{reached: true}
		for r := range callee.regs {
			callee.regs[r] = other
		}
		copy(callee.regs[isa.R1:isa.R5+1], s.regs[isa.R1:isa.R5+1])
		a.enter(target, &callee)
		// The callee returns a value in r0 that is not the context (Linux
		// does not track a returned context pointer either) and clobbers
		// r1-r5; r6-r9 and the caller's frame are preserved.
		for r := isa.R0; r <= isa.R5; r++ {
			set(r, other)
		}
	case in.IsCall():
		for r := isa.R0; r <= isa.R5; r++ {
			set(r, other)
		}
	case in.IsExit():
		return nil
	}

	if t, ok := in.BranchTarget(pc); ok && !in.IsLocalCall() {
		a.enter(t, &s)
		if in.IsJumpA() {
			return nil
		}
	}
	if next < len(a.prog) {
		a.enter(next, &s)
	}
	return nil
}

func checkBase(pc int, r isa.Register, v value) error {
	switch v {
	case mixed:
		return &Error{PC: pc, Reason: fmt.Sprintf("r%d is the context pointer on some paths only", r)}
	case derived:
		return &Error{PC: pc, Reason: fmt.Sprintf("dereference of modified context pointer r%d", r)}
	}
	return nil
}

// collect lists the loads and stores whose base register is the context.
func (a *analysis) collect() ([]Access, error) {
	var out []Access
	for pc, in := range a.prog {
		s := &a.states[pc]
		if !s.reached {
			continue
		}
		var base isa.Register
		write := false
		switch cls := in.Opcode.Class(); {
		case cls == isa.ClassLDX:
			base = in.Src
		case cls == isa.ClassST || cls == isa.ClassSTX:
			base, write = in.Dst, true
		default:
			continue
		}
		if s.regs[base] != ctx {
			continue
		}
		if in.Opcode.Class() == isa.ClassSTX && in.Opcode.Mode() == isa.ModeATOMIC {
			return nil, &Error{PC: pc, Reason: "atomic operation on the context"}
		}
		out = append(out, Access{PC: pc, Offset: int(in.Offset), Size: in.Opcode.Size().Bytes(), Write: write})
	}
	return out, nil
}
