package verifier

import "math"

// The low 32 bits of a register. A 32-bit test of a register whose 64-bit
// value does not fit 32 bits (a helper's long result, tested as an int:
// `if w0 s> -1`; a random number tested as `if w0 < 4`) says something
// about its low half that the 64-bit interval cannot hold; Linux keeps
// separate 32-bit bounds of every register for it. bpfhost keeps such a
// fact, where a test makes one, in the zone: at locSub32(r) the signed
// bounds of the low 32 bits of register r, at locU32(r) their unsigned
// bounds. Facts are dropped whenever r is written (step, after an ALU
// instruction and before any other), at every call and return between
// functions (push, pop), and wherever the zone drops what one path does
// not have (joins); the containment oracle checks them against the
// concrete register (containment.go). A later 32-bit test of the same
// register (`if w0 s< 0`, after the join of decision 0030 kept the paths
// apart; `if w0 == w2` with w2 = 3 after `if w0 < 4`) is decided, and a
// 32-bit ALU instruction reads the low half with its facts (`w1 = w0`
// after `if w0 < 4` gives r1 in [0, 3]).

// locSub32 is the location of register r's low 32 bits read as signed.
func locSub32(r int) loc { return loc(32 + r) }

// locU32 is the location of register r's low 32 bits read as unsigned.
func locU32(r int) loc { return loc(43 + r) }

// isSub32Loc reports whether l is a locSub32 or a locU32.
func isSub32Loc(l loc) bool { return l >= 32 && l < 43+11 }

// forgetSub32 drops the facts of the registers in the mask.
func (s *state) forgetSub32(mask uint16) {
	for r := 0; r <= 10; r++ {
		if mask&(1<<r) != 0 {
			s.forgetSub32Reg(r)
		}
	}
}

// forgetSub32Reg drops the facts of register r.
func (s *state) forgetSub32Reg(r int) {
	s.z.forget(locSub32(r))
	s.z.forget(locU32(r))
}

// forgetAllSub32 drops the facts of every register.
func (s *state) forgetAllSub32() { s.z.forgetRange(locSub32(0), locU32(10)) }

// sub32 returns the signed bounds of the low 32 bits of scalar register
// r: what its 64-bit range says, met with the fact a test left.
func (s *state) sub32(r int) (int64, int64) {
	iv := s.ival(r)
	var lo, hi int64
	if iv.smin >= math.MinInt32 && iv.smax <= math.MaxInt32 {
		lo, hi = iv.smin, iv.smax // sign-extended 32-bit values
	} else {
		lo, hi = iv.low32().s32()
	}
	if s.z.has(locSub32(r)) {
		flo, fhi := s.z.bounds(locSub32(r))
		lo, hi = max(lo, flo), min(hi, fhi)
	}
	if s.z.has(locU32(r)) {
		// An unsigned range on one side of 2^31 is a signed one.
		ulo, uhi := s.z.bounds(locU32(r))
		switch {
		case uhi <= math.MaxInt32:
			lo, hi = max(lo, ulo), min(hi, uhi)
		case ulo > math.MaxInt32:
			lo, hi = max(lo, ulo-1<<32), min(hi, uhi-1<<32)
		}
	}
	return lo, hi
}

// low32 returns the interval of the low 32 bits of scalar register r,
// zero-extended: what its 64-bit range says, met with the facts tests
// left. The result may be empty where the facts contradict each other
// (a path that cannot run).
func (s *state) low32(r int) ival {
	iv := s.ival(r).low32()
	if s.z.has(locU32(r)) {
		lo, hi := s.z.bounds(locU32(r))
		iv = iv.meet(urange(uint64(max(lo, 0)), uint64(max(hi, 0))))
	}
	if s.z.has(locSub32(r)) {
		// A signed range on one side of 0 is an unsigned one.
		lo, hi := s.z.bounds(locSub32(r))
		switch {
		case lo >= 0:
			iv = iv.meet(urange(uint64(lo), uint64(hi)))
		case hi < 0:
			iv = iv.meet(urange(uint64(uint32(int32(lo))), uint64(uint32(int32(hi)))))
		}
	}
	return iv
}

// low32Or is low32(r), or iv where the facts leave nothing (a path that
// cannot run; its result does not matter).
func (s *state) low32Or(r int, iv ival) ival {
	if l := s.low32(r); !l.empty() {
		return l
	}
	return iv
}

// assume32 refines s by the 32-bit test "w_dst r w_src" (src < 0: the
// immediate, whose zero-extended value is imm) where an operand's 64-bit
// value does not fit 32 bits, so that the test is about low halves only;
// nil if it cannot hold. Each register operand keeps what the test says
// of its low half: as its 64-bit range where that is its low half (an
// unsigned test of a value below 2^32, a signed one of a value in
// [-2^31, 2^31)), else as a fact.
func (s *state) assume32(r rel, dst, src int, imm ival) *state {
	if r.signed() {
		alo, ahi := s.sub32(dst)
		blo, bhi := imm.s32()
		if src >= 0 {
			blo, bhi = s.sub32(src)
		}
		if alo > ahi || blo > bhi {
			return nil
		}
		na, nb, ok := refineIvals(r, srange(alo, ahi), srange(blo, bhi))
		if !ok {
			return nil
		}
		if src == dst {
			return s
		}
		if !s.setS32(dst, na) || src >= 0 && !s.setS32(src, nb) {
			return nil
		}
		return s
	}
	a, b := s.low32(dst), imm
	if src >= 0 {
		b = s.low32(src)
	}
	if a.empty() || b.empty() {
		return nil
	}
	na, nb, ok := refineIvals(r, a, b)
	if !ok {
		return nil
	}
	if src == dst {
		return s
	}
	if !s.setU32(dst, na) || src >= 0 && !s.setU32(src, nb) {
		return nil
	}
	return s
}

// setS32 records that the low half of scalar register r, read as signed,
// is in n's signed range; false if that empties the state.
func (s *state) setS32(r int, n ival) bool {
	lo, hi := max(n.smin, math.MinInt32), min(n.smax, math.MaxInt32)
	if lo > hi {
		return false
	}
	if iv := s.ival(r); iv.smin >= math.MinInt32 && iv.smax <= math.MaxInt32 {
		return s.refine(r, srange(lo, hi)) // r is its sign-extended low half
	}
	if clo, chi := s.sub32(r); clo == lo && chi == hi {
		return true // nothing new
	}
	s.z.setBounds(locSub32(r), lo, hi)
	return true
}

// setU32 records that the low half of scalar register r, read as
// unsigned, is in n's unsigned range; false if that empties the state.
func (s *state) setU32(r int, n ival) bool {
	lo, hi := n.umin, min(n.umax, math.MaxUint32)
	if lo > hi {
		return false
	}
	if s.ival(r).fitsU32() {
		return s.refine(r, urange(lo, hi)) // r is its low half
	}
	if c := s.low32(r); c.umin == lo && c.umax == hi {
		return true // nothing new
	}
	s.z.setBounds(locU32(r), int64(lo), int64(hi))
	return true
}
