package verifier

import "math"

// The low 32 bits of a register, as a signed number. A 32-bit test of a
// register whose 64-bit value does not fit 32 bits (a helper's long
// result, tested as an int: `if w0 s> -1`) says something about its low
// half that the 64-bit interval cannot hold; Linux keeps separate 32-bit
// bounds of every register for it. bpfhost keeps such a fact, where a test
// makes one, in the zone at locSub32(r): the signed bounds of the low 32
// bits of register r. It is dropped whenever r is written (step, before
// the instruction), at every call and return between functions (push,
// pop), and wherever the zone drops what one path does not have (joins);
// the containment oracle checks it against the concrete register
// (containment.go). A later 32-bit test of the same register (`if w0 s<
// 0`, after the join of decision 0030 kept the paths apart) is decided.

// locSub32 is the location of register r's low 32 bits read as signed.
func locSub32(r int) loc { return loc(32 + r) }

// isSub32Loc reports whether l is a locSub32.
func isSub32Loc(l loc) bool { return l >= 32 && l < 32+11 }

// forgetSub32 drops the facts of the registers in the mask.
func (s *state) forgetSub32(mask uint16) {
	for r := 0; r <= 10; r++ {
		if mask&(1<<r) != 0 {
			s.z.forget(locSub32(r))
		}
	}
}

// forgetAllSub32 drops the facts of every register.
func (s *state) forgetAllSub32() { s.z.forgetRange(locSub32(0), locSub32(10)) }

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
	return lo, hi
}

// assumeSub32 refines s by the signed 32-bit test "w_dst r c" of a
// register whose 64-bit value does not fit 32 bits; nil if it cannot hold.
func (s *state) assumeSub32(r rel, dst int, c int64) *state {
	lo, hi := s.sub32(dst)
	rlo, rhi := int64(math.MinInt32), int64(math.MaxInt32)
	switch r {
	case relSLT:
		rhi = c - 1
	case relSLE:
		rhi = c
	case relSGT:
		rlo = c + 1
	case relSGE:
		rlo = c
	default:
		return s
	}
	lo, hi = max(lo, rlo), min(hi, rhi)
	if lo > hi {
		return nil
	}
	s.z.setBounds(locSub32(dst), lo, hi)
	return s
}
