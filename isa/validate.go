package isa

import (
	"errors"
	"fmt"
	"sort"
)

// MaxInstructions is the largest program, in slots, that Validate accepts.
// It matches the Linux kernel's limit for privileged programs.
const MaxInstructions = 1 << 20

// ErrInvalidProgram is wrapped by every error Validate returns.
var ErrInvalidProgram = errors.New("invalid program")

// ValidationError says which instruction of a program is malformed and why.
type ValidationError struct {
	Index  int    // slot index; -1 for errors about the whole program
	Field  string // "opcode", "dst", "src", "offset", "imm" or "" for structural errors
	Reason string
}

func (e *ValidationError) Error() string {
	switch {
	case e.Index < 0:
		return "invalid program: " + e.Reason
	case e.Field == "":
		return fmt.Sprintf("instruction %d: %s", e.Index, e.Reason)
	default:
		return fmt.Sprintf("instruction %d: %s: %s", e.Index, e.Field, e.Reason)
	}
}

// Unwrap lets errors.Is(err, ErrInvalidProgram) match.
func (e *ValidationError) Unwrap() error { return ErrInvalidProgram }

// Validate checks that a program is well formed: every opcode is known, every
// field an instruction does not use is zero, registers are in range and r10 is
// never written, lddw pairs are complete, jumps and local calls land on an
// instruction inside the same function (never on the second half of an lddw),
// and no function can run off its end. It does not check what a program does
// at run time; that is the verifier's job.
func Validate(prog []Instruction) error {
	n := len(prog)
	if n == 0 {
		return &ValidationError{Index: -1, Reason: "no instructions"}
	}
	if n > MaxInstructions {
		return &ValidationError{Index: -1, Reason: fmt.Sprintf("%d instructions, at most %d allowed", n, MaxInstructions)}
	}

	// Pass 1: each slot on its own, marking second halves of lddw.
	second := make([]bool, n)
	for pc := 0; pc < n; pc++ {
		ins := prog[pc]
		if err := checkInstruction(pc, ins); err != nil {
			return err
		}
		if ins.IsLoadImm64() {
			if pc+1 >= n {
				return &ValidationError{Index: pc, Reason: "lddw is truncated: its second slot is missing"}
			}
			next := prog[pc+1]
			switch {
			case next.Opcode != 0:
				return &ValidationError{Index: pc + 1, Field: "opcode", Reason: "second slot of lddw must have opcode 0"}
			case next.Dst != 0:
				return &ValidationError{Index: pc + 1, Field: "dst", Reason: "second slot of lddw must have dst 0"}
			case next.Src != 0:
				return &ValidationError{Index: pc + 1, Field: "src", Reason: "second slot of lddw must have src 0"}
			case next.Offset != 0:
				return &ValidationError{Index: pc + 1, Field: "offset", Reason: "second slot of lddw must have offset 0"}
			case next.Imm != 0 && (ins.Src == PseudoMapFD || ins.Src == PseudoMapIdx):
				return &ValidationError{Index: pc + 1, Field: "imm", Reason: "second slot of a map lddw must have imm 0"}
			}
			second[pc+1] = true
			pc++
		}
	}

	// Pass 2: function boundaries, from the entry and every local call or
	// code-address target.
	starts := map[int]bool{0: true}
	for pc := 0; pc < n; pc++ {
		ins := prog[pc]
		isFuncRef := ins.IsLoadImm64() && ins.Src == PseudoFunc
		if !ins.IsLocalCall() && !isFuncRef {
			continue
		}
		t := pc + 1 + int(ins.Imm)
		if err := checkTarget(pc, t, n, second, "function"); err != nil {
			return err
		}
		starts[t] = true
	}
	funcs := make([]int, 0, len(starts))
	for s := range starts {
		funcs = append(funcs, s)
	}
	sort.Ints(funcs)

	// Pass 3: jumps stay inside their function; functions end in exit or ja.
	for f, start := range funcs {
		end := n
		if f+1 < len(funcs) {
			end = funcs[f+1]
		}
		for pc := start; pc < end; pc++ {
			ins := prog[pc]
			if second[pc] || ins.IsLocalCall() {
				continue
			}
			t, ok := ins.BranchTarget(pc)
			if !ok {
				continue
			}
			if err := checkTarget(pc, t, n, second, "jump"); err != nil {
				return err
			}
			if t < start || t >= end {
				return &ValidationError{Index: pc, Field: "offset", Reason: fmt.Sprintf("jump to %d leaves the function at %d..%d", t, start, end-1)}
			}
		}
		last := prog[end-1]
		if second[end-1] || !(last.IsExit() || last.IsJumpA()) {
			what := "program"
			if start != 0 {
				what = fmt.Sprintf("function at %d", start)
			}
			return &ValidationError{Index: end - 1, Reason: fmt.Sprintf("%s can fall off its end: last instruction is not exit or ja", what)}
		}
	}
	return nil
}

func checkTarget(pc, t, n int, second []bool, what string) error {
	field := "offset"
	if what == "function" {
		field = "imm"
	}
	if t < 0 || t >= n {
		return &ValidationError{Index: pc, Field: field, Reason: fmt.Sprintf("%s target %d is outside the program (0..%d)", what, t, n-1)}
	}
	if second[t] {
		return &ValidationError{Index: pc, Field: field, Reason: fmt.Sprintf("%s target %d is the second slot of an lddw", what, t)}
	}
	return nil
}

// checkInstruction validates one slot's opcode and fields.
func checkInstruction(pc int, ins Instruction) error {
	bad := func(field, reason string) error {
		return &ValidationError{Index: pc, Field: field, Reason: reason}
	}
	unknown := func() error { return bad("opcode", fmt.Sprintf("unknown opcode %#02x", uint8(ins.Opcode))) }
	mustZero := func(field string, v int64) error {
		if v != 0 {
			return bad(field, fmt.Sprintf("unused field must be 0, is %d", v))
		}
		return nil
	}
	reg := func(field string, r Register, writable bool) error {
		if r > R10 {
			return bad(field, fmt.Sprintf("invalid register r%d", r))
		}
		if writable && r == R10 {
			return bad(field, "r10 is read-only")
		}
		return nil
	}
	first := func(errs ...error) error {
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
		return nil
	}

	op := ins.Opcode
	switch cls := op.Class(); cls {
	case ClassALU, ClassALU64:
		aop := op.ALUOp()
		switch aop {
		case ALUNeg:
			if op.Source() == SourceX {
				return unknown()
			}
			return first(reg("dst", ins.Dst, true), mustZero("src", int64(ins.Src)), mustZero("offset", int64(ins.Offset)), mustZero("imm", int64(ins.Imm)))
		case ALUEnd:
			if cls == ClassALU64 && op.Source() == SourceX {
				return unknown()
			}
			if err := first(reg("dst", ins.Dst, true), mustZero("src", int64(ins.Src)), mustZero("offset", int64(ins.Offset))); err != nil {
				return err
			}
			if ins.Imm != 16 && ins.Imm != 32 && ins.Imm != 64 {
				return bad("imm", fmt.Sprintf("byte swap width must be 16, 32 or 64, is %d", ins.Imm))
			}
			return nil
		case 0xe0, 0xf0:
			return unknown()
		}
		if err := reg("dst", ins.Dst, true); err != nil {
			return err
		}
		switch aop {
		case ALUDiv, ALUMod:
			if ins.Offset != 0 && ins.Offset != 1 {
				return bad("offset", fmt.Sprintf("division offset must be 0 (unsigned) or 1 (signed), is %d", ins.Offset))
			}
		case ALUMov:
			if op.Source() == SourceK || ins.Offset == 0 || ins.Offset == 8 || ins.Offset == 16 || (ins.Offset == 32 && cls == ClassALU64) {
				if op.Source() == SourceK && ins.Offset != 0 {
					return mustZero("offset", int64(ins.Offset))
				}
				break
			}
			return bad("offset", fmt.Sprintf("sign-extension width must be 8, 16 or 32 (64-bit only), is %d", ins.Offset))
		default:
			if err := mustZero("offset", int64(ins.Offset)); err != nil {
				return err
			}
		}
		if op.Source() == SourceK {
			return mustZero("src", int64(ins.Src))
		}
		return first(reg("src", ins.Src, false), mustZero("imm", int64(ins.Imm)))

	case ClassJMP, ClassJMP32:
		jop := op.JumpOp()
		switch jop {
		case JumpA:
			if op.Source() == SourceX {
				return unknown()
			}
			if cls == ClassJMP32 {
				return first(mustZero("dst", int64(ins.Dst)), mustZero("src", int64(ins.Src)), mustZero("offset", int64(ins.Offset)))
			}
			return first(mustZero("dst", int64(ins.Dst)), mustZero("src", int64(ins.Src)), mustZero("imm", int64(ins.Imm)))
		case JumpCall:
			if cls == ClassJMP32 {
				return unknown()
			}
			if op.Source() == SourceX {
				return first(reg("dst", ins.Dst, false), mustZero("src", int64(ins.Src)), mustZero("offset", int64(ins.Offset)), mustZero("imm", int64(ins.Imm)))
			}
			if err := first(mustZero("dst", int64(ins.Dst)), mustZero("offset", int64(ins.Offset))); err != nil {
				return err
			}
			if ins.Src > CallKfunc {
				return bad("src", fmt.Sprintf("call source must be 0 (helper), 1 (local) or 2 (kfunc), is %d", ins.Src))
			}
			return nil
		case JumpExit:
			if cls == ClassJMP32 || op.Source() == SourceX {
				return unknown()
			}
			return first(mustZero("dst", int64(ins.Dst)), mustZero("src", int64(ins.Src)), mustZero("offset", int64(ins.Offset)), mustZero("imm", int64(ins.Imm)))
		case 0xe0, 0xf0:
			return unknown()
		}
		if err := reg("dst", ins.Dst, false); err != nil {
			return err
		}
		if op.Source() == SourceK {
			return mustZero("src", int64(ins.Src))
		}
		return first(reg("src", ins.Src, false), mustZero("imm", int64(ins.Imm)))

	case ClassLD:
		switch {
		case op == OpLoadImm64:
			if ins.Src > PseudoMapIdxValue {
				return bad("src", fmt.Sprintf("lddw source form must be 0 to 6, is %d", ins.Src))
			}
			return first(reg("dst", ins.Dst, true), mustZero("offset", int64(ins.Offset)))
		case op.Size() == SizeDW:
			return unknown()
		case op.Mode() == ModeABS:
			return first(mustZero("dst", int64(ins.Dst)), mustZero("src", int64(ins.Src)), mustZero("offset", int64(ins.Offset)))
		case op.Mode() == ModeIND:
			return first(mustZero("dst", int64(ins.Dst)), reg("src", ins.Src, false), mustZero("offset", int64(ins.Offset)))
		}
		return unknown()

	case ClassLDX:
		switch op.Mode() {
		case ModeMEM:
		case ModeMEMSX:
			if op.Size() == SizeDW {
				return unknown()
			}
		default:
			return unknown()
		}
		return first(reg("dst", ins.Dst, true), reg("src", ins.Src, false), mustZero("imm", int64(ins.Imm)))

	case ClassST:
		if op.Mode() != ModeMEM {
			return unknown()
		}
		return first(reg("dst", ins.Dst, false), mustZero("src", int64(ins.Src)))

	default: // ClassSTX
		switch op.Mode() {
		case ModeMEM:
			return first(reg("dst", ins.Dst, false), reg("src", ins.Src, false), mustZero("imm", int64(ins.Imm)))
		case ModeATOMIC:
			if s := op.Size(); s != SizeW && s != SizeDW {
				return unknown()
			}
			switch ins.Imm {
			case AtomicAdd, AtomicOr, AtomicAnd, AtomicXor,
				AtomicAdd | AtomicFetch, AtomicOr | AtomicFetch, AtomicAnd | AtomicFetch, AtomicXor | AtomicFetch,
				AtomicXchg, AtomicCmpXchg:
			default:
				return bad("imm", fmt.Sprintf("unknown atomic operation %#x", ins.Imm))
			}
			return first(reg("dst", ins.Dst, false), reg("src", ins.Src, ins.Imm&AtomicFetch != 0))
		}
		return unknown()
	}
}
