package verifier

import (
	"fmt"
	"math"

	"github.com/bpfhost/bpfhost/isa"
)

// The transfer function: one instruction's effect on the abstract state,
// and the checks that instruction must pass.

// exec carries what a transfer needs besides the state.
type exec struct {
	a     *analyzer
	r     *run
	check bool
	pc    int // the instruction being applied
	// extra are more states after the instruction, kept apart from the
	// one step returns (a call's exits: callexits.go).
	extra []*state
}

// fail reports a problem when checking.
func (e *exec) fail(pc int, format string, args ...any) {
	if e.check {
		e.a.report(pc, format, args...)
	}
}

// maxPtrOff bounds pointer offsets: beyond it arithmetic could wrap an
// address, and Linux refuses such offsets too.
const maxPtrOff = 1 << 29

// describe says what a register holds, for messages about misuse.
func (e *exec) describe(s *state, r int) string {
	v := s.regs[r]
	switch v.kind {
	case kUninit:
		return fmt.Sprintf("r%d is uninitialised", r)
	case kInvalid:
		switch v.region {
		case invPacketChanged:
			return fmt.Sprintf("r%d is a packet pointer invalidated by the helper call at %s", r, e.a.where(int(v.origin)))
		case invReleased:
			return fmt.Sprintf("r%d is a ring buffer record already released at %s", r, e.a.where(int(v.origin)))
		case invJoinedRecords:
			return fmt.Sprintf("r%d is one of two ring buffer records depending on the path (joined after %s): which one it is, and whether it was released, is unknown", r, e.a.where(int(v.origin)))
		case invSockReleased:
			return fmt.Sprintf("r%d is a socket already released with bpf_sk_release at %s", r, e.a.where(int(v.origin)))
		case invJoinedSockets:
			return fmt.Sprintf("r%d is one of two sockets depending on the path (joined after %s): which one it is, and whether it was released, is unknown", r, e.a.where(int(v.origin)))
		case invJoinedIters:
			return fmt.Sprintf("r%d is one of two iterators depending on the path (joined after %s)", r, e.a.where(int(v.origin)))
		}
		return fmt.Sprintf("r%d points into the stack of a function that returned at %s", r, e.a.where(int(v.origin)))
	case kMixed:
		return fmt.Sprintf("r%d holds different kinds of values on different paths", r)
	}
	return fmt.Sprintf("r%d is %s", r, v)
}

// pointerDesc says that register r holds a pointer, or a value that is a
// pointer on some paths, for messages about leaks.
func (e *exec) pointerDesc(s *state, r int) string {
	if v := s.regs[r]; v.kind == kMixed {
		return fmt.Sprintf("r%d may be a pointer (it is a pointer on some paths, another kind of value on others)", r)
	}
	return fmt.Sprintf("r%d is a pointer (%s)", r, s.regs[r])
}

// readable checks that register r holds an initialised value.
func (e *exec) readable(s *state, pc, r int) bool {
	switch s.regs[r].kind {
	case kUninit, kInvalid:
		e.fail(pc, "%s", e.describe(s, r))
		return false
	}
	return true
}

// scalar checks that register r holds a number.
func (e *exec) scalar(s *state, pc, r int, what string) bool {
	v := s.regs[r]
	if v.kind == kScalar {
		return true
	}
	if v.kind.isPointer() {
		e.fail(pc, "r%d is a pointer (%s): %s", r, v, what)
	} else {
		e.fail(pc, "%s: %s", e.describe(s, r), what)
	}
	return false
}

// step applies one instruction that is neither a jump nor an exit.
func (e *exec) step(s *state, pc int, ins isa.Instruction) (*state, error) {
	_, def := regUseDef(ins)
	op := ins.Opcode
	if op.Class().IsALU() {
		// A 32-bit operation reads its operands' low halves with their
		// facts; the facts of what it writes go after it (sub32.go).
		e.alu(s, pc, ins)
		s.forgetSub32(def)
		return s, nil
	}
	if def != 0 {
		s.forgetSub32(def) // sub32.go
	}
	switch cls := op.Class(); {
	case ins.IsLoadImm64():
		e.lddw(s, pc, ins, e.a.prog[pc+1])
	case cls == isa.ClassLD:
		e.legacyLoad(s, pc, ins)
	case cls == isa.ClassLDX:
		e.load(s, pc, ins)
	case cls == isa.ClassST || (cls == isa.ClassSTX && op.Mode() == isa.ModeMEM):
		e.store(s, pc, ins)
	case cls == isa.ClassSTX:
		e.atomic(s, pc, ins)
	case ins.Opcode == isa.OpCallX:
		if !e.scalar(s, pc, int(ins.Dst), "callx needs a helper number") {
			s.setUninit(0)
			return s, nil
		}
		iv := s.ival(int(ins.Dst))
		if !iv.isConst() {
			e.fail(pc, "callx through r%d, whose value %s is not a known helper number", ins.Dst, iv)
			for r := 0; r <= 5; r++ {
				s.setUninit(r)
			}
			s.set(0, value{kind: kScalar}, topIval)
			return s, nil
		}
		return e.helper(s, pc, int32(iv.umin))
	case ins.IsLocalCall():
		t, _ := ins.BranchTarget(pc)
		return e.localCall(s, pc, t)
	case ins.Opcode == isa.OpCall && ins.Src == isa.CallKfunc:
		return e.kfunc(s, pc)
	case ins.Opcode == isa.OpCall:
		return e.helper(s, pc, ins.Imm)
	}
	return s, nil
}

// lddw loads a 64-bit immediate, a map, a map value address or a function.
func (e *exec) lddw(s *state, pc int, lo, hi isa.Instruction) {
	dst := int(lo.Dst)
	switch lo.Src {
	case isa.PseudoImm64:
		s.set(dst, value{kind: kScalar}, constIval(isa.Imm64(lo, hi)))
	case isa.PseudoMapIdx, isa.PseudoMapFD, isa.PseudoMapIdxValue, isa.PseudoMapValue:
		idx := int(lo.Imm)
		if idx < 0 || idx >= len(e.a.opts.Maps) {
			e.fail(pc, "lddw names map %d, but the program has %d maps", idx, len(e.a.opts.Maps))
			s.set(dst, value{kind: kScalar}, topIval)
			return
		}
		e.mapProgCompatible(pc, e.a.maps[idx])
		if lo.Src == isa.PseudoMapIdx || lo.Src == isa.PseudoMapFD {
			s.set(dst, value{kind: kMapPtr, region: int32(idx), origin: int32(pc)}, topIval)
			return
		}
		m := e.a.maps[idx]
		off := uint32(hi.Imm)
		if off >= m.ValueSize {
			e.fail(pc, "lddw of map %s value at offset %d: the value has %d bytes", m.Name, off, m.ValueSize)
		}
		s.set(dst, value{kind: kMapValue, region: int32(idx), origin: int32(pc)}, constIval(uint64(off)))
	case isa.PseudoFunc:
		t := pc + 1 + int(lo.Imm)
		s.set(dst, value{kind: kFunc, region: int32(t)}, topIval)
	default:
		e.fail(pc, "lddw of a kernel symbol (__ksym) is not supported")
		s.set(dst, value{kind: kScalar}, topIval)
	}
}

// alu applies an arithmetic instruction.
func (e *exec) alu(s *state, pc int, ins isa.Instruction) {
	op := ins.Opcode
	aop := op.ALUOp()
	is64 := op.Class() == isa.ClassALU64
	dst := int(ins.Dst)
	toBE := op.Source() == isa.SourceX && aop == isa.ALUEnd
	src := -1
	var sv value
	var siv ival
	if op.Source() == isa.SourceX && aop != isa.ALUEnd {
		src = int(ins.Src)
		if aop == isa.ALUMov && is64 && ins.Offset == 0 && s.regs[src].kind == kUninit {
			s.copyReg(dst, src) // copying "nothing" reads nothing
			return
		}
		if !e.readable(s, pc, src) {
			s.set(dst, value{kind: kScalar}, topIval)
			return
		}
		sv, siv = s.regs[src], s.ival(src)
	} else {
		sv = value{kind: kScalar}
		if is64 {
			siv = constIval(uint64(int64(ins.Imm)))
		} else {
			siv = constIval(uint64(uint32(ins.Imm)))
		}
	}

	// Moves.
	if aop == isa.ALUMov {
		switch {
		case src < 0:
			s.set(dst, value{kind: kScalar}, scalarALU(is64, aop, 0, ins.Imm, false, siv, siv))
		case is64 && ins.Offset == 0:
			s.copyReg(dst, src)
		case sv.kind == kScalar && ins.Offset == 0 && !is64 && siv.fitsU32():
			s.copyReg(dst, src)
		case !is64 && ins.Offset == 0 && (isPacketish(sv) || sv.kind == kPktLow32):
			// The low half of a packet pointer: only good for computing
			// lengths with 32-bit subtraction (data_end - data).
			l := locReg(src)
			if sv.kind == kPacketEnd {
				l = locPkt
			}
			s.regs[dst] = value{kind: kPktLow32, region: 0}
			s.z.copyLoc(locReg(dst), l)
		case sv.kind == kBTF:
			// Not an address bpfhost handed out (btfptr.go): a number.
			s.set(dst, value{kind: kScalar}, scalarALU(is64, aop, ins.Offset, 0, false, topIval, topIval))
		case sv.kind != kScalar:
			e.fail(pc, "r%d is a pointer (%s): a 32-bit or sign-extending move would leak part of it", src, sv)
			s.set(dst, value{kind: kScalar}, topIval)
		case !is64 && ins.Offset == 0 && siv.fitsU32():
			s.copyReg(dst, src) // the value already is its low half
		default:
			if !is64 {
				siv = s.low32Or(src, siv)
			}
			s.set(dst, value{kind: kScalar}, scalarALU(is64, aop, ins.Offset, 0, false, siv, siv))
		}
		return
	}

	if !e.readable(s, pc, dst) {
		s.set(dst, value{kind: kScalar}, topIval)
		return
	}
	dv := s.regs[dst]
	div := s.ival(dst)

	if dv.kind != kScalar || sv.kind != kScalar {
		e.pointerALU(s, pc, ins, dst, src, dv, sv, siv)
		return
	}
	if !is64 && (aop == isa.ALUAdd || aop == isa.ALUSub) && siv.isConst() && siv.umin >= 1<<31 && siv.umin <= math.MaxUint32 {
		// w += -k is w -= k modulo 2^32.
		if aop == isa.ALUAdd {
			aop = isa.ALUSub
		} else {
			aop = isa.ALUAdd
		}
		siv = constIval(1<<32 - siv.umin)
		src = -1
	}

	// Shifts by a constant as wide as the register, which Linux refuses.
	if src < 0 && (aop == isa.ALULsh || aop == isa.ALURsh || aop == isa.ALUArsh) {
		width := int64(32)
		if is64 {
			width = 64
		}
		if ins.Imm < 0 || int64(ins.Imm) >= width {
			e.fail(pc, "shift by %d is out of range for a %d-bit shift", ins.Imm, width)
		}
	}
	if (aop == isa.ALUDiv || aop == isa.ALUMod) && e.a.opts.test != nil && e.a.opts.test.divByZero {
		b := siv
		if !is64 {
			b = b.low32()
		}
		if b.umin == 0 {
			e.fail(pc, "possible division by zero")
		}
	}

	zext := e.zextPair(s, pc, ins, dst, div)
	var res ival
	if is64 || aop == isa.ALUEnd { // a byte swap may read 64 bits
		res = scalarALU(is64, aop, ins.Offset, ins.Imm, toBE, div, siv)
	} else {
		a32, b32 := s.low32Or(dst, div), siv
		if src >= 0 {
			b32 = s.low32Or(src, siv)
		}
		res = scalarALU(is64, aop, ins.Offset, ins.Imm, toBE, a32, b32)
	}
	if res.empty() {
		res = topIval
	}
	stz := sv.tz
	if src < 0 {
		stz = tzOf(siv.umin)
	}
	e.setArith(s, dst, src, aop, is64, div, siv, res, aluTZ(aop, is64, dv.tz, stz, siv))
	if zext && s.z.has(locZext) {
		// The second shift of the pair: dst is again the value it had
		// before the first, with the relations it had.
		s.z.copyLoc(locReg(dst), locZext)
		s.z.forget(locZext)
	}
}

// zextPair recognises the zero extension clang emits for a 32-bit value
// without ALU32 (-mcpu=v1/v2): `rX <<= 32; rX >>= 32`. On the first shift,
// when rX is known to be in [0, 2^32) and the next instruction is the
// second shift of rX, it keeps rX's value in a location of its own
// (locZext); it reports whether ins is the second shift, for which the
// caller gives rX that value back: the pair is then the identity, and
// rX keeps its relations (a loop counter tested through such a copy stays
// bounded). Between the two, rX holds the shifted value as computed.
func (e *exec) zextPair(s *state, pc int, ins isa.Instruction, dst int, div ival) bool {
	zshift := func(i isa.Instruction, op isa.ALUOp) bool {
		return i.Opcode.Class() == isa.ClassALU64 && i.Opcode.Source() == isa.SourceK && i.Opcode.ALUOp() == op && i.Imm == 32 && int(i.Dst) == dst
	}
	switch {
	case zshift(ins, isa.ALURsh):
		return true
	case !zshift(ins, isa.ALULsh) || pc+1 >= len(e.a.prog) || !zshift(e.a.prog[pc+1], isa.ALURsh):
		return false
	}
	s.z.forget(locZext)
	if div.umax <= math.MaxUint32 && s.z.has(locReg(dst)) {
		s.z.copyLoc(locZext, locReg(dst))
	}
	return false
}

// aluTZ returns the known trailing zero bits of a result.
func aluTZ(op isa.ALUOp, is64 bool, ta, tb uint8, b ival) uint8 {
	var t uint8
	switch op {
	case isa.ALUAdd, isa.ALUSub, isa.ALUOr, isa.ALUXor:
		t = min(ta, tb)
	case isa.ALUMul:
		t = min(63, ta+tb)
	case isa.ALUAnd:
		t = max(ta, tb)
	case isa.ALULsh:
		if b.isConst() {
			// The shift is masked to the operation's width, as the
			// result is computed (a 32-bit shift by 40 shifts by 8).
			width := uint64(63)
			if !is64 {
				width = 31
			}
			t = min(63, ta+uint8(b.umin&width))
		} else {
			t = ta
		}
	case isa.ALUNeg:
		t = ta
	}
	if !is64 && t > 32 {
		t = 32
	}
	return t
}

// setArith stores an arithmetic result, keeping relations for additions
// and subtractions that cannot wrap. It serves scalars and pointer
// offsets alike: for a pointer, dst's value must already be set.
func (e *exec) setArith(s *state, dst, src int, aop isa.ALUOp, is64 bool, a, b, res ival, tz uint8) {
	ld := locReg(dst)
	exact := false
	switch aop {
	case isa.ALUAdd, isa.ALUSub:
		if is64 {
			var ok1, ok2 bool
			if aop == isa.ALUAdd {
				_, ok1 = addS(a.smin, b.smin)
				_, ok2 = addS(a.smax, b.smax)
			} else {
				_, ok1 = subS(a.smin, b.smax)
				_, ok2 = subS(a.smax, b.smin)
			}
			exact = ok1 && ok2 && a.smin != math.MinInt64 && a.smax != math.MaxInt64 && b.smin != math.MinInt64 && b.smax != math.MaxInt64
		} else {
			// 32-bit: exact when both operands are their own low halves and
			// the result did not wrap.
			a32, b32 := a.low32(), b.low32()
			if a.fitsU32() && b.fitsU32() && a32 == a && b32 == b {
				if aop == isa.ALUAdd {
					exact = a.umax+b.umax <= math.MaxUint32
				} else {
					exact = a.umin >= b.umax
				}
			}
		}
	}
	v := s.regs[dst]
	v.tz = tz
	if v.kind == kScalar {
		v.umin, v.umax = res.umin, res.umax
	}
	if !exact {
		s.set(dst, v, res)
		return
	}
	s.regs[dst] = v
	z := s.z
	neg := aop == isa.ALUSub
	switch {
	case src < 0 || b.isConst():
		k := int64(b.umin)
		if b.smin == b.smax {
			k = b.smin
		}
		if neg {
			k = -k
		}
		z.assign(ld, ld, k, k)
	case src == dst:
		s.set(dst, v, res)
		return
	default:
		ls := locReg(src)
		// dst' = dst + src: dst' - dst in src's range, and (for additions)
		// dst' - src in dst's range.
		const tmp = loc(3)
		z.copyLoc(tmp, ld)
		z.forget(ld)
		z.ensure(ld)
		if neg {
			z.addConstraint(ld, tmp, negB(b.smin))
			z.addConstraint(tmp, ld, b.smax)
		} else {
			z.addConstraint(ld, tmp, b.smax)
			z.addConstraint(tmp, ld, negB(b.smin))
			z.addConstraint(ld, ls, a.smax)
			z.addConstraint(ls, ld, negB(a.smin))
		}
		z.forget(tmp)
	}
	if !s.refine(dst, res) {
		// The relations and the interval disagree only if the state is
		// unreachable; keep the interval.
		s.set(dst, v, res)
	}
}

// pointerALU handles arithmetic where an operand is a pointer.
func (e *exec) pointerALU(s *state, pc int, ins isa.Instruction, dst, src int, dv, sv value, siv ival) {
	op := ins.Opcode
	aop := op.ALUOp()
	is64 := op.Class() == isa.ClassALU64
	bad := func(format string, args ...any) {
		e.fail(pc, format, args...)
		s.set(dst, value{kind: kScalar}, topIval)
	}
	// A value of different kinds on different paths (a pointer on one at
	// least) stays such a value when a number is added or subtracted:
	// it can be moved and spilled but never used to access memory, as a
	// number or as a verdict, so its offset need not be known.
	if is64 && (aop == isa.ALUAdd || aop == isa.ALUSub) &&
		(dv.kind == kMixed && (src < 0 || sv.kind == kScalar) || aop == isa.ALUAdd && dv.kind == kScalar && sv.kind == kMixed) {
		s.set(dst, value{kind: kMixed}, topIval)
		return
	}
	for _, r := range []int{dst, src} {
		if r >= 0 && s.regs[r].kind != kScalar && !s.regs[r].kind.isPointer() {
			bad("%s", e.describe(s, r))
			return
		}
	}
	lowOK := func(v value) bool { return isPacketish(v) || v.kind == kPktLow32 }
	if !is64 {
		if aop == isa.ALUSub && src >= 0 && (lowOK(dv) && lowOK(sv) || e.sameObject(dv, sv)) {
			e.pointerDiff(s, dst, src, dv, sv)
			s.set(dst, value{kind: kScalar}, s.ival(dst).low32())
			return
		}
		p := dst
		if !dv.kind.isPointer() {
			p = src
		}
		bad("32-bit arithmetic on pointer r%d (%s) is not allowed", p, s.regs[p])
		return
	}
	if dv.kind == kPktLow32 || sv.kind == kPktLow32 {
		p := dst
		if sv.kind == kPktLow32 {
			p = src
		}
		bad("r%d holds the low 32 bits of a packet pointer: only 32-bit subtraction of another packet pointer is allowed on it", p)
		return
	}
	if aop != isa.ALUAdd && aop != isa.ALUSub {
		bad("pointer arithmetic with %s is not allowed (only add and sub)", aluName(aop))
		return
	}
	div := s.ival(dst)
	// pointer - pointer
	if aop == isa.ALUSub && dv.kind == kBTF && sv.kind == kBTF {
		s.set(dst, value{kind: kScalar}, topIval) // two kernel addresses: a number (btfptr.go)
		return
	}
	if dv.kind.isPointer() && sv.kind.isPointer() {
		if aop == isa.ALUSub && (isPacketish(dv) && isPacketish(sv) || e.sameObject(dv, sv)) {
			// The distance between two places of one object: a number
			// that says nothing of where the object lies.
			e.pointerDiff(s, dst, src, dv, sv)
			return
		}
		bad("arithmetic between two pointers (r%d is %s, r%d is %s) is not allowed", dst, dv, src, sv)
		return
	}
	// Which operand is the pointer.
	ptr, off := dst, src
	pv, oiv := dv, siv
	if !dv.kind.isPointer() {
		if aop == isa.ALUSub {
			bad("r%d: subtracting a pointer from a number is not allowed", dst)
			return
		}
		ptr, off = src, dst
		pv, oiv = sv, div
	}
	if !s.regs[ptr].kind.isPointer() || (off >= 0 && s.regs[off].kind != kScalar) {
		if off >= 0 && s.regs[off].kind != kScalar {
			bad("%s", e.describe(s, off))
		} else {
			bad("%s", e.describe(s, ptr))
		}
		return
	}
	switch {
	case pv.null:
		bad("arithmetic on r%d, which may be NULL (%s): check it first", ptr, pv)
		return
	case !pv.kind.hasOffset():
		bad("arithmetic on r%d (%s) is not allowed", ptr, pv)
		return
	case pv.kind == kFlowKeys && !oiv.isConst():
		// Linux's adjust_ptr_min_max_vals: constant offsets only.
		bad("arithmetic on r%d (%s) by a variable offset %s is not allowed (Linux: pointer arithmetic on flow_keys prohibited)", ptr, pv, oiv)
		return
	}
	piv := s.ival(ptr)
	var res ival
	if aop == isa.ALUAdd {
		res = ivAdd(piv, oiv)
	} else {
		res = ivSub(piv, oiv)
	}
	if oiv.smin <= -maxPtrOff || oiv.smax >= maxPtrOff || res.smin <= -maxPtrOff || res.smax >= maxPtrOff {
		where := "out of range"
		switch pv.kind {
		case kMapValue:
			where = fmt.Sprintf("outside the %d-byte map %s value", e.a.maps[pv.region].ValueSize, e.a.maps[pv.region].Name)
		case kStack:
			where = fmt.Sprintf("outside the %d-byte frame", frameSize)
		case kPacket:
			where = "outside any packet"
		}
		bad("r%d (%s) plus an unchecked offset %s: the offset %s may be %s", ptr, pv, oiv, res.signedOnly(), where)
		return
	}
	otz := tzOf(oiv.umin)
	if off >= 0 {
		otz = s.regs[off].tz
	}
	if ptr == dst {
		e.setArith(s, dst, src, aop, true, piv, oiv, res, min(pv.tz, otz))
		return
	}
	// dst (a number) + src (a pointer): dst becomes the pointer.
	const tmp = loc(4)
	s.z.copyLoc(tmp, locReg(dst))
	s.copyReg(dst, src)
	ld := locReg(dst)
	s.z.forget(ld)
	s.z.ensure(ld)
	s.z.addConstraint(ld, locReg(src), oiv.smax)
	s.z.addConstraint(locReg(src), ld, negB(oiv.smin))
	s.z.addConstraint(ld, tmp, piv.smax)
	s.z.addConstraint(tmp, ld, negB(piv.smin))
	s.z.forget(tmp)
	s.regs[dst].tz = min(pv.tz, otz)
	s.refine(dst, res)
}

func (v ival) signedOnly() string { return ival{v.smin, v.smax, 0, math.MaxUint64}.signedString() }

func isPacketish(v value) bool { return (v.kind == kPacket || v.kind == kPacketEnd) && !v.null }

// pointerDiff computes dst = dst - src for two packet pointers, or two
// pointers into one object (sameObject): a number, their offsets' difference.
func (e *exec) pointerDiff(s *state, dst, src int, dv, sv value) {
	la, lb := locReg(dst), locReg(src)
	if dv.kind == kPacketEnd {
		la = locPkt
	}
	if sv.kind == kPacketEnd {
		lb = locPkt
	}
	if dv.kind == kPktLow32 && sv.kind == kPktLow32 && la == lb {
		lb = la
	}
	alo, ahi := s.z.bounds(la)
	blo, bhi := s.z.bounds(lb)
	res := ivSub(ival{alo, ahi, 0, math.MaxUint64}.norm(), ival{blo, bhi, 0, math.MaxUint64}.norm())
	const tmp = loc(3)
	s.z.copyLoc(tmp, la)
	ld := locReg(dst)
	s.regs[dst] = value{kind: kScalar, umin: res.umin, umax: res.umax}
	s.z.forget(ld)
	s.z.ensure(ld)
	if la != lb {
		// dst' = a - b: dst' - a = -b.
		s.z.addConstraint(ld, tmp, negB(blo))
		s.z.addConstraint(tmp, ld, bhi)
	} else {
		s.z.setBounds(ld, 0, 0)
	}
	s.z.forget(tmp)
	s.refine(dst, res)
}

func aluName(op isa.ALUOp) string {
	switch op {
	case isa.ALUMul:
		return "mul"
	case isa.ALUDiv:
		return "div"
	case isa.ALUOr:
		return "or"
	case isa.ALUAnd:
		return "and"
	case isa.ALULsh:
		return "lsh"
	case isa.ALURsh:
		return "rsh"
	case isa.ALUNeg:
		return "neg"
	case isa.ALUMod:
		return "mod"
	case isa.ALUXor:
		return "xor"
	case isa.ALUArsh:
		return "arsh"
	case isa.ALUEnd:
		return "byte swap"
	}
	return fmt.Sprintf("op %#x", uint8(op))
}
