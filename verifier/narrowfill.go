package verifier

import "math"

// A narrower load from the start of a spilled number reads its low bytes
// (little-endian). Where the number fits them, the load is the number
// itself, with its relations (Linux keeps the spill's id: a test of the
// filled register refines the spilled one, verifier_spill_fill.c's
// fill_32bit_after_spill_64bit_preserve_id); else lowBytes bounds them
// (a number shifted left by 32 has low 32 bits 0: fill_32bit_after_spill_64bit).

// lowBytes returns the interval of the low n bits (8, 16 or 32) of a
// number in iv whose low tz bits are 0, zero-extended.
func lowBytes(iv ival, tz uint8, n int) ival {
	top := uint64(1)<<n - 1
	switch {
	case int(tz) >= n:
		return constIval(0)
	case iv.empty():
		return urange(0, top)
	case iv.umax <= top:
		return iv
	case n == 32:
		return iv.low32().meet(urange(0, math.MaxUint32))
	case iv.umax-iv.umin <= top && iv.umin&top <= iv.umax&top:
		return urange(iv.umin&top, iv.umax&top)
	}
	return urange(0, top)
}

// zeroBytes reports whether the n bytes at start of frame f (index fi)
// lie inside a spilled 0 (a byte load from the middle of it:
// verifier_spill_fill.c's partial_stack_load_preserves_zeros). Linux
// knows the bytes of a spilled 0 only, not of other constants; bpfhost
// keeps to that.
func (s *state) zeroBytes(f *frame, fi, start, n int) bool {
	for _, sp := range f.spill {
		off := int(sp.off)
		if off > start || start+n > off+int(sp.size) {
			continue
		}
		if sp.v.kind != kScalar {
			return false
		}
		iv := s.ivalAt(locSpill(fi, off), sp.v)
		return iv.isConst() && iv.umin == 0
	}
	return false
}
