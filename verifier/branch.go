package verifier

import (
	"math"
	"math/bits"

	"github.com/bpfhost/bpfhost/isa"
)

// Conditional jumps: each branch gets the state refined by the condition
// (or its negation), or nil when the condition rules it out. Comparisons of
// numbers narrow their intervals and add zone relations; comparisons of
// pointers into the same region relate their offsets (data + off against
// data_end proves packet bounds); comparing a maybe-NULL pointer with 0
// decides NULL for every copy of it.

// rel is a comparison.
type rel uint8

const (
	relEQ rel = iota
	relNE
	relLT // unsigned
	relLE
	relGT
	relGE
	relSLT
	relSLE
	relSGT
	relSGE
	relSet
	relNotSet
)

func relOf(op isa.JumpOp) rel {
	switch op {
	case isa.JumpEq:
		return relEQ
	case isa.JumpNE:
		return relNE
	case isa.JumpLT:
		return relLT
	case isa.JumpLE:
		return relLE
	case isa.JumpGT:
		return relGT
	case isa.JumpGE:
		return relGE
	case isa.JumpSLT:
		return relSLT
	case isa.JumpSLE:
		return relSLE
	case isa.JumpSGT:
		return relSGT
	case isa.JumpSGE:
		return relSGE
	}
	return relSet
}

func (r rel) negate() rel {
	return [...]rel{relNE, relEQ, relGE, relGT, relLE, relLT, relSGE, relSGT, relSLE, relSLT, relNotSet, relSet}[r]
}

func (r rel) signed() bool { return r >= relSLT && r <= relSGE }

// holds evaluates the relation on concrete values.
func (r rel) holds(a, b uint64) bool {
	switch r {
	case relEQ:
		return a == b
	case relNE:
		return a != b
	case relLT:
		return a < b
	case relLE:
		return a <= b
	case relGT:
		return a > b
	case relGE:
		return a >= b
	case relSLT:
		return int64(a) < int64(b)
	case relSLE:
		return int64(a) <= int64(b)
	case relSGT:
		return int64(a) > int64(b)
	case relSGE:
		return int64(a) >= int64(b)
	case relSet:
		return a&b != 0
	}
	return a&b == 0
}

// cond splits the state at a conditional jump.
func (e *exec) cond(s *state, pc int, ins isa.Instruction) (fall, taken *state) {
	op := ins.Opcode
	is64 := op.Class() == isa.ClassJMP
	dst := int(ins.Dst)
	src := -1
	if op.Source() == isa.SourceX {
		src = int(ins.Src)
	}
	ok := e.readable(s, pc, dst)
	if src >= 0 {
		ok = e.readable(s, pc, src) && ok
	}
	r := relOf(op.JumpOp())
	e.pc = pc
	if !ok {
		return s, s.clone()
	}
	taken = e.assume(s.clone(), pc, is64, r, dst, src, ins.Imm)
	fall = e.assume(s, pc, is64, r.negate(), dst, src, ins.Imm)
	if h := e.a.opts.test; h != nil && h.sink >= 0 {
		if t, _ := ins.BranchTarget(pc); t == h.sink {
			taken = nil
		}
	}
	return fall, taken
}

// assume refines s by "dst r src" (src < 0: the immediate); nil if it
// cannot hold.
func (e *exec) assume(s *state, pc int, is64 bool, r rel, dst, src int, imm int32) *state {
	dv := s.regs[dst]
	var sv value
	var siv ival
	if src >= 0 {
		sv, siv = s.regs[src], s.ival(src)
	} else {
		sv = value{kind: kScalar}
		if is64 {
			siv = constIval(uint64(int64(imm)))
		} else {
			siv = constIval(uint64(uint32(imm)))
		}
	}
	div := s.ival(dst)

	// Pointers.
	if dv.kind != kScalar || sv.kind != kScalar {
		return e.assumePointers(s, is64, r, dst, src, dv, sv, siv)
	}

	// Numbers. Constants decide.
	a, b := div, siv
	if !is64 {
		if !(div.fitsU32() && siv.fitsU32()) {
			a, b = div.low32(), siv.low32()
			if a.isConst() && b.isConst() {
				if r.signed() {
					if !r.holds(uint64(int64(int32(uint32(a.umin)))), uint64(int64(int32(uint32(b.umin))))) {
						return nil
					}
				} else if !r.holds(a.umin, b.umin) {
					return nil
				}
			}
			// A test of the low halves (sub32.go).
			return s.assume32(r, dst, src, b)
		}
		if r.signed() && !(div.umax <= math.MaxInt32 && siv.umax <= math.MaxInt32) {
			// Signed 32-bit order differs from the 64-bit one here.
			lo, hi := div.s32()
			blo, bhi := siv.s32()
			if cmpImpossible(r, lo, hi, blo, bhi) {
				return nil
			}
			if siv.isConst() {
				// signed32.go: keep the half (or part) of dst the test
				// leaves.
				nd, ok := refineS32(r, div, int64(int32(uint32(siv.umin))))
				if !ok || !s.refine(dst, nd) || !s.sync() {
					return nil
				}
			}
			return s
		}
	}
	if a.isConst() && b.isConst() {
		if !r.holds(a.umin, b.umin) {
			return nil
		}
		return s
	}
	na, nb, okr := refineIvals(r, a, b)
	if !okr {
		return nil
	}
	if !s.refine(dst, na) {
		return nil
	}
	if src >= 0 {
		if !s.refine(src, nb) {
			return nil
		}
		// Relations between the two registers.
		if src != dst {
			ld, ls := locReg(dst), locReg(src)
			signedOK := r.signed() || (na.smin >= 0 && nb.smin >= 0)
			var okz = true
			if signedOK {
				switch r {
				case relEQ:
					okz = s.z.addConstraint(ld, ls, 0) && s.z.addConstraint(ls, ld, 0)
				case relLT, relSLT:
					okz = s.z.addConstraint(ld, ls, -1)
				case relLE, relSLE:
					okz = s.z.addConstraint(ld, ls, 0)
				case relGT, relSGT:
					okz = s.z.addConstraint(ls, ld, -1)
				case relGE, relSGE:
					okz = s.z.addConstraint(ls, ld, 0)
				}
			}
			if !okz || !s.sync() {
				return nil
			}
		}
	} else if !s.sync() {
		return nil
	}
	return s
}

// cmpImpossible reports whether a signed comparison cannot hold for any
// values in the two ranges.
func cmpImpossible(r rel, alo, ahi, blo, bhi int64) bool {
	switch r {
	case relSLT:
		return alo >= bhi
	case relSLE:
		return alo > bhi
	case relSGT:
		return ahi <= blo
	case relSGE:
		return ahi < blo
	}
	return false
}

// refineIvals narrows two intervals by a relation between them.
func refineIvals(r rel, a, b ival) (ival, ival, bool) {
	switch r {
	case relEQ:
		m := a.meet(b)
		return m, m, !m.empty()
	case relNE:
		if b.isConst() {
			a = excludeEnd(a, b.umin)
		}
		if a.isConst() {
			b = excludeEnd(b, a.umin)
		}
	case relLT:
		if b.umax == 0 {
			return a, b, false
		}
		a = a.meet(urange(0, b.umax-1))
		if a.umin == math.MaxUint64 {
			return a, b, false
		}
		b = b.meet(urange(a.umin+1, math.MaxUint64))
	case relLE:
		a = a.meet(urange(0, b.umax))
		b = b.meet(urange(a.umin, math.MaxUint64))
	case relGT:
		bb, aa, ok := refineIvals(relLT, b, a)
		return aa, bb, ok
	case relGE:
		bb, aa, ok := refineIvals(relLE, b, a)
		return aa, bb, ok
	case relSLT:
		if b.smax == math.MinInt64 {
			return a, b, false
		}
		a = a.meet(srange(math.MinInt64, b.smax-1))
		if a.smin == math.MaxInt64 {
			return a, b, false
		}
		b = b.meet(srange(a.smin+1, math.MaxInt64))
	case relSLE:
		a = a.meet(srange(math.MinInt64, b.smax))
		b = b.meet(srange(a.smin, math.MaxInt64))
	case relSGT:
		bb, aa, ok := refineIvals(relSLT, b, a)
		return aa, bb, ok
	case relSGE:
		bb, aa, ok := refineIvals(relSLE, b, a)
		return aa, bb, ok
	case relSet:
		if b.isConst() {
			if b.umin == 0 {
				return a, b, false
			}
			// Some bit of b is set in a: a >= its lowest set bit.
			a = a.meet(urange(uint64(1)<<bits.TrailingZeros64(b.umin), math.MaxUint64))
		}
	case relNotSet:
		if b.isConst() && a.isConst() && a.umin&b.umin != 0 {
			return a, b, false
		}
	}
	return a, b, !a.empty() && !b.empty()
}

// excludeEnd removes v from an interval when it is one of its bounds.
func excludeEnd(a ival, v uint64) ival {
	if a.isConst() && a.umin == v {
		return ival{1, 0, 1, 0}
	}
	if a.umin == v {
		a.umin++
	} else if a.umax == v {
		a.umax--
	}
	if a.smin == int64(v) {
		a.smin++
	} else if a.smax == int64(v) {
		a.smax--
	}
	return a.norm()
}

// assumePointers refines a comparison where an operand is a pointer.
func (e *exec) assumePointers(s *state, is64 bool, r rel, dst, src int, dv, sv value, siv ival) *state {
	if is64 && r == relEQ && src >= 0 && dv.kind.isPointer() && sv.kind.isPointer() && dv.null != sv.null &&
		dv.kind != kBTF && sv.kind != kBTF && dv.kind != kPktLow32 && sv.kind != kPktLow32 {
		// Equal to a pointer that is not NULL: not NULL either, as
		// Linux infers ("jne/jeq infer not null") for the register
		// compared (not its copies, which a NULL test of one decides).
		if dv.null {
			s.regs[dst].null = false
		} else {
			s.regs[src].null = false
		}
		dv, sv = s.regs[dst], s.regs[src]
	}
	// A pointer against 0: NULL checks.
	isZero := sv.kind == kScalar && siv.isConst() && siv.umin == 0
	// (The low half of a packet pointer is a number that may be 0.)
	if dv.kind.isPointer() && dv.kind != kPktLow32 && isZero && is64 && (r == relEQ || r == relNE) {
		isNull := r == relEQ
		if dv.kind == kBTF && !dv.null {
			return s // it may be NULL all the same (btfptr.go)
		}
		if !dv.null {
			if isNull {
				return nil // a valid pointer is never NULL
			}
			return s
		}
		e.decideNull(s, dst, isNull)
		return s
	}
	if r != relEQ && r != relNE && !comparable(dv, sv) {
		if e.check {
			e.fail(e.pc, "comparison of %s with %s: ordering a pointer against a number or another region would leak its address", dv, sv)
		}
		return s
	}
	if !is64 || !dv.kind.isPointer() || !sv.kind.isPointer() {
		return s // allowed, but nothing to learn
	}
	// Two pointers into the same region: compare offsets.
	la, lb := locReg(dst), locReg(src)
	same := false
	switch {
	case isPacketish(dv) && isPacketish(sv):
		same = true
		if dv.kind == kPacketEnd {
			la = locPkt
		}
		if sv.kind == kPacketEnd {
			lb = locPkt
		}
	case dv.kind == kPktLow32 && sv.kind == kPktLow32:
		// Low halves of addresses wrap at 2^32 wherever the packet lies:
		// only equality says something about the offsets.
		same = r == relEQ || r == relNE
	case e.sameObject(dv, sv):
		same = true
	}
	if !same || la == lb {
		return s
	}
	ok := true
	switch r {
	case relNE:
		// Different from a known offset at the other's bound.
		alo, ahi := s.z.bounds(la)
		blo, bhi := s.z.bounds(lb)
		if blo == bhi {
			if alo == blo {
				ok = s.z.addConstraint(locZero, la, -(alo + 1))
			} else if ahi == blo {
				ok = s.z.addConstraint(la, locZero, ahi-1)
			}
		} else if alo == ahi {
			if blo == alo {
				ok = s.z.addConstraint(locZero, lb, -(blo + 1))
			} else if bhi == alo {
				ok = s.z.addConstraint(lb, locZero, bhi-1)
			}
		}
	case relEQ:
		ok = s.z.addConstraint(la, lb, 0) && s.z.addConstraint(lb, la, 0)
	case relLT, relSLT:
		ok = s.z.addConstraint(la, lb, -1)
	case relLE, relSLE:
		ok = s.z.addConstraint(la, lb, 0)
	case relGT, relSGT:
		ok = s.z.addConstraint(lb, la, -1)
	case relGE, relSGE:
		ok = s.z.addConstraint(lb, la, 0)
	}
	if !ok || !s.sync() {
		return nil
	}
	return s
}

// sameObject reports whether two non-packet pointers point into the same
// object, so that comparing them compares their offsets: the same stack
// frame or context, the same map element or ring buffer record (the same
// lookup or reservation, which their id ties together), or the value of a
// map that has one element. Pointers into different objects of one map,
// or records of one size, order by where the objects lie, which the
// analysis does not know.
func (e *exec) sameObject(a, b value) bool {
	if a.kind != b.kind || a.region != b.region || !a.kind.hasOffset() || a.null || b.null {
		return false
	}
	switch a.kind {
	case kStack, kCtx:
		return true
	case kMapValue:
		if a.id != 0 && a.id == b.id {
			return true
		}
		// lddw of a global variable, or a lookup in a single-element array
		// (not a map-in-map's template, which stands for many maps).
		if int(a.region) < len(e.a.opts.Maps) {
			mi := e.a.maps[a.region]
			mt, ok := e.a.opts.ABI.MapType(mi.Type)
			return ok && mi.MaxEntries == 1 && mt.Name == "array" && !mt.PerCPU
		}
	case kRingbuf:
		return a.id != 0 && a.id == b.id
	}
	return false
}

// decideNull makes the maybe-NULL pointer in register r, and every copy of
// it, NULL (the scalar 0) or valid.
func (e *exec) decideNull(s *state, r int, isNull bool) {
	v := s.regs[r]
	match := func(x value) bool {
		return x.null && x.kind == v.kind && x.region == v.region && x.id == v.id
	}
	apply := func(l loc, x *value) {
		if isNull {
			*x = value{kind: kScalar}
			s.z.setBounds(l, 0, 0)
		} else {
			x.null = false
		}
	}
	if v.id != 0 {
		s.eachValue(func(l loc, x *value) {
			if match(*x) {
				apply(l, x)
			}
		})
		if isNull && v.kind.isRef() {
			s.dropRef(v.id)
		}
		iterDecided(s, v, isNull)
	} else {
		apply(locReg(r), &s.regs[r])
	}
}

// comparable reports whether two values may be ordered: numbers, or
// pointers into the same region.
func comparable(a, b value) bool {
	switch {
	case a.kind == kScalar && b.kind == kScalar:
		return true
	case isPacketish(a) && isPacketish(b):
		return true
	case a.kind.isPointer() && a.kind == b.kind && a.region == b.region && a.kind.hasOffset() && !a.null && !b.null:
		return true
	case (a.kind == kBTF || b.kind == kBTF) && (a.kind == kBTF || a.kind == kScalar) && (b.kind == kBTF || b.kind == kScalar):
		return true // kernel addresses are numbers to bpfhost (btfptr.go)
	}
	return false
}
