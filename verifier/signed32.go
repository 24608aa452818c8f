package verifier

import "math"

// Signed 32-bit tests of zero-extended values. A 32-bit ALU result (w0 =
// -22, w0 = call's int) is held zero-extended, so its negative values are
// the numbers [2^31, 2^32-1]: `if w0 s< 0` splits that range in two in the
// middle, a split the unsigned interval cannot express when the value
// spans both halves. refineS32 refines it where one side of the test keeps
// one half (or part of one): error codes tested by sign, as kernel-style C
// does (`if (ret < 0) return ret;`), which paths.go then keeps apart.

// s32Half is 2^31: the first zero-extended 32-bit value that is negative.
const s32Half = uint64(1) << 31

// refineS32 returns the zero-extended 32-bit values of d whose signed
// 32-bit view x satisfies "x r c" (r a signed relation, c a signed 32-bit
// constant), as the hull of what is left of each half of d, and false when
// nothing is left. d must be a zero-extended 32-bit interval.
func refineS32(r rel, d ival, c int64) (ival, bool) {
	lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
	switch r {
	case relSLT:
		hi = c - 1
	case relSLE:
		hi = c
	case relSGT:
		lo = c + 1
	case relSGE:
		lo = c
	default:
		return d, true
	}
	if lo > hi {
		return d, false
	}
	out, any := ival{}, false
	// The non-negative half, then the negative one, each as s32 values.
	for _, part := range [2][2]uint64{{d.umin, min(d.umax, s32Half-1)}, {max(d.umin, s32Half), d.umax}} {
		if part[0] > part[1] {
			continue
		}
		plo, phi := int64(int32(uint32(part[0]))), int64(int32(uint32(part[1])))
		plo, phi = max(plo, lo), min(phi, hi)
		if plo > phi {
			continue
		}
		iv := urange(uint64(uint32(int32(plo))), uint64(uint32(int32(phi))))
		if !any {
			out, any = iv, true
		} else {
			out = out.join(iv)
		}
	}
	return out, any
}
