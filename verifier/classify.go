package verifier

import (
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// Classify computes the facts of Result for a program that is not verified
// (decision 0016): the runtime loads such programs, run checked, for
// fuzzing and as an oracle, and still needs the context accesses to rewrite
// them to the host's layout. It proves nothing about safety.
//
// Classify is a small forward dataflow analysis over the control-flow
// graph: the context pointer enters in r1, moves between registers with
// mov, and may be spilled to and filled from the stack with 8-byte stores
// and loads at constant offsets from r10. BPF-to-BPF calls pass it on in
// r1 to r5. Like Verify, it accepts context accesses only through the
// unmodified pointer (register plus constant offset), and it fails if a
// memory access goes through the context on one path and through
// something else on another, or through a modified context pointer.
//
// Of the other facts, TailCalls is true if the program contains a call of
// bpf_tail_call (as abi names it) or a callx, reachable or not, and
// MapArgs is -1 everywhere: without the verifier's types no map argument is
// known, and engines call the helpers.
func Classify(prog []isa.Instruction, abi *platform.ABI) (*Result, error) {
	if err := isa.Validate(prog); err != nil {
		return nil, err
	}
	if abi == nil {
		return nil, fmt.Errorf("%w: no ABI", ErrOptions)
	}
	a := &cAnalysis{prog: prog, states: make([]cState, len(prog)), entry: map[int]*cState{}}
	start := cState{reached: true}
	for i := range start.regs {
		start.regs[i] = cOther
	}
	for i := range start.stack {
		start.stack[i] = cBottom // uninitialised: Verify rejects reads
	}
	start.regs[isa.R1] = cCtx
	a.enter(0, &start)
	if err := a.run(); err != nil {
		return nil, err
	}
	acc, err := a.collect()
	if err != nil {
		return nil, err
	}
	// Unverified programs may read any stack they did not write.
	res := &Result{ContextAccesses: acc, Instructions: len(prog), MapArgs: make([]int, len(prog)), ZeroEntryFrame: true, ZeroCallFrames: true}
	for pc, in := range prog {
		res.MapArgs[pc] = mapArgMany
		if in.Opcode == isa.OpCallX {
			res.TailCalls = true
		}
		if in.Opcode == isa.OpCall && in.Src == isa.CallHelper {
			if h, ok := abi.HelperByID(platform.HelperID(in.Imm)); ok && h.Name == "bpf_tail_call" {
				res.TailCalls = true
			}
		}
	}
	return res, nil
}

// cValue is what the classification knows about a register or stack slot.
type cValue uint8

const (
	cBottom  cValue = iota // not reached yet
	cOther                 // anything but the context pointer
	cCtx                   // exactly the context pointer
	cDerived               // computed from the context pointer by arithmetic
	cMixed                 // the context pointer on some paths only
)

func cJoin(a, b cValue) cValue {
	switch {
	case a == cBottom:
		return b
	case b == cBottom || a == b:
		return a
	}
	return cMixed
}

const cSlots = MaxStack / 8

// cState is the abstract state before an instruction, within one function.
type cState struct {
	reached bool
	regs    [isa.NumRegisters]cValue
	stack   [cSlots]cValue // 8-byte cSlots of the current frame, index (off+512)/8
}

func (s *cState) cJoin(o *cState) bool {
	if !o.reached {
		return false
	}
	if !s.reached {
		*s = *o
		return true
	}
	changed := false
	for i := range s.regs {
		if j := cJoin(s.regs[i], o.regs[i]); j != s.regs[i] {
			s.regs[i], changed = j, true
		}
	}
	for i := range s.stack {
		if j := cJoin(s.stack[i], o.stack[i]); j != s.stack[i] {
			s.stack[i], changed = j, true
		}
	}
	return changed
}

type cAnalysis struct {
	prog   []isa.Instruction
	states []cState
	// entry holds the joined register state at each function entry, from all
	// its call sites; returns are handled conservatively (see transfer).
	entry map[int]*cState
	work  []int
}

func (a *cAnalysis) enter(pc int, s *cState) {
	if a.states[pc].cJoin(s) {
		a.work = append(a.work, pc)
	}
}

func (a *cAnalysis) run() error {
	for len(a.work) > 0 {
		pc := a.work[len(a.work)-1]
		a.work = a.work[:len(a.work)-1]
		if err := a.transfer(pc); err != nil {
			return err
		}
	}
	return nil
}

func (a *cAnalysis) transfer(pc int) error {
	in := a.prog[pc]
	s := a.states[pc] // copy
	next := pc + 1
	op := in.Opcode
	cls := op.Class()

	set := func(r isa.Register, v cValue) { s.regs[r] = v }
	cSlot := func(off int16, size int) (int, bool) {
		o := int(off) + MaxStack
		if o < 0 || o+size > MaxStack || int(off)%8 != 0 || size != 8 {
			return 0, false
		}
		return o / 8, true
	}
	// Stores of part of a slot, or at unaligned offsets, make the slots
	// they touch plain data.
	cClobber := func(off int16, size int) {
		lo := int(off) + MaxStack
		for b := lo; b < lo+size; b++ {
			if b >= 0 && b < MaxStack {
				s.stack[b/8] = cOther
			}
		}
	}

	switch {
	case cls.IsALU():
		if op.ALUOp() == isa.ALUMov {
			// A move replaces the register: a plain 64-bit copy keeps what
			// the source is; anything else (an immediate, a 32-bit or
			// sign-extending move) is not a pointer.
			v := cOther
			if op.Source() == isa.SourceX && cls == isa.ClassALU64 && in.Offset == 0 {
				v = s.regs[in.Src]
			}
			set(in.Dst, v)
		} else if s.regs[in.Dst] == cCtx || s.regs[in.Dst] == cDerived || s.regs[in.Dst] == cMixed ||
			(op.Source() == isa.SourceX && (s.regs[in.Src] == cCtx || s.regs[in.Src] == cDerived)) {
			// Arithmetic on the context pointer gives a pointer that Linux
			// refuses to dereference, and so do we (see collect).
			set(in.Dst, cDerived)
		} else {
			set(in.Dst, cOther)
		}
	case in.IsLoadImm64():
		set(in.Dst, cOther)
		next = pc + 2
	case cls == isa.ClassLDX:
		if err := cCheckBase(pc, in.Src, s.regs[in.Src]); err != nil {
			return err
		}
		v := cOther
		if in.Src == isa.RFP && op.Mode() == isa.ModeMEM {
			if i, ok := cSlot(in.Offset, op.Size().Bytes()); ok {
				v = s.stack[i]
				if v == cBottom {
					v = cOther
				}
			}
		}
		set(in.Dst, v)
	case cls == isa.ClassST || cls == isa.ClassSTX:
		if err := cCheckBase(pc, in.Dst, s.regs[in.Dst]); err != nil {
			return err
		}
		if in.Dst == isa.RFP {
			size := op.Size().Bytes()
			if i, ok := cSlot(in.Offset, size); ok && cls == isa.ClassSTX && op.Mode() == isa.ModeMEM {
				s.stack[i] = s.regs[in.Src]
			} else {
				cClobber(in.Offset, size)
			}
		}
		if cls == isa.ClassSTX && op.Mode() == isa.ModeATOMIC {
			if in.Imm&isa.AtomicFetch != 0 && in.Imm != isa.AtomicCmpXchg {
				set(in.Src, cOther)
			}
			if in.Imm == isa.AtomicCmpXchg {
				set(isa.R0, cOther)
			}
		}
	case cls == isa.ClassLD: // legacy packet loads cClobber r0-r5
		for r := isa.R0; r <= isa.R5; r++ {
			set(r, cOther)
		}
	case in.IsLocalCall():
		target, _ := in.BranchTarget(pc)
		callee := cState{reached: true}
		for r := range callee.regs {
			callee.regs[r] = cOther
		}
		copy(callee.regs[isa.R1:isa.R5+1], s.regs[isa.R1:isa.R5+1])
		a.enter(target, &callee)
		// The callee returns a cValue in r0 that is not the context (Linux
		// does not track a returned context pointer either) and clobbers
		// r1-r5; r6-r9 and the caller's frame are preserved.
		for r := isa.R0; r <= isa.R5; r++ {
			set(r, cOther)
		}
	case in.IsCall():
		for r := isa.R0; r <= isa.R5; r++ {
			set(r, cOther)
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

func cCheckBase(pc int, r isa.Register, v cValue) error {
	switch v {
	case cMixed:
		return fmt.Errorf("instruction %d: r%d is the context pointer on some paths only", pc, r)
	case cDerived:
		return fmt.Errorf("instruction %d: dereference of modified context pointer r%d", pc, r)
	}
	return nil
}

// collect lists the loads and stores whose base register is the context.
func (a *cAnalysis) collect() ([]int, error) {
	var out []int
	for pc, in := range a.prog {
		s := &a.states[pc]
		if !s.reached {
			continue
		}
		var base isa.Register
		switch cls := in.Opcode.Class(); {
		case cls == isa.ClassLDX:
			base = in.Src
		case cls == isa.ClassST || cls == isa.ClassSTX:
			base = in.Dst
		default:
			continue
		}
		if s.regs[base] != cCtx {
			continue
		}
		if in.Opcode.Class() == isa.ClassSTX && in.Opcode.Mode() == isa.ModeATOMIC {
			return nil, fmt.Errorf("instruction %d: atomic operation on the context", pc)
		}
		out = append(out, pc)
	}
	return out, nil
}
