package verifier

import (
	"fmt"
	"math"
	"math/bits"
)

// The numeric domain of one value: signed and unsigned 64-bit intervals,
// kept consistent with each other. Signed bounds of a value stored in a
// location also live in the zone (zone.go), which adds relations; the
// interval here is what the transfer functions compute with.

// ival is a pair of intervals describing the same 64-bit value.
type ival struct {
	smin, smax int64
	umin, umax uint64
}

var topIval = ival{math.MinInt64, math.MaxInt64, 0, math.MaxUint64}

func constIval(v uint64) ival { return ival{int64(v), int64(v), v, v} }

func urange(lo, hi uint64) ival {
	return ival{math.MinInt64, math.MaxInt64, lo, hi}.norm()
}

func srange(lo, hi int64) ival {
	return ival{lo, hi, 0, math.MaxUint64}.norm()
}

// u32Ival is any zero-extended 32-bit value.
var u32Ival = urange(0, math.MaxUint32)

// norm tightens each interval with the other. An empty result has
// smin > smax or umin > umax.
func (v ival) norm() ival {
	for range 2 {
		if v.smin >= 0 {
			v.umin = max(v.umin, uint64(v.smin))
			v.umax = min(v.umax, uint64(v.smax))
		} else if v.smax < 0 {
			v.umin = max(v.umin, uint64(v.smin))
			v.umax = min(v.umax, uint64(v.smax))
		}
		if v.umax <= math.MaxInt64 {
			v.smin = max(v.smin, int64(v.umin))
			v.smax = min(v.smax, int64(v.umax))
		} else if v.umin > math.MaxInt64 {
			v.smin = max(v.smin, int64(v.umin))
			v.smax = min(v.smax, int64(v.umax))
		}
	}
	return v
}

func (v ival) empty() bool { return v.smin > v.smax || v.umin > v.umax }

func (v ival) isConst() bool { return v.umin == v.umax }

func (v ival) join(o ival) ival {
	return ival{min(v.smin, o.smin), max(v.smax, o.smax), min(v.umin, o.umin), max(v.umax, o.umax)}
}

// leq reports whether v is contained in o: each of o's bounds holds for v.
// (Set inclusion of the meanings can hold without this for intervals that
// norm would tighten; the check is sufficient.)
func (v ival) leq(o ival) bool {
	return v.smin >= o.smin && v.smax <= o.smax && v.umin >= o.umin && v.umax <= o.umax
}

// widen widens v, the older interval, by o: a bound that grew jumps to the
// next threshold (no threshold: to the end of the range); the others are
// v's. The result is above v.join(o).
func (v ival) widen(o ival, th *thresholds) ival {
	r := v
	if o.smax > v.smax {
		r.smax = th.above(o.smax)
	}
	if o.smin < v.smin {
		// As the zone widens it: the bound on -x.
		if b := th.above(negB(o.smin)); b == inf {
			r.smin = math.MinInt64
		} else {
			r.smin = -b
		}
	}
	if o.umax > v.umax {
		r.umax = th.aboveU(o.umax)
	}
	if o.umin < v.umin {
		r.umin = th.belowU(o.umin)
	}
	return r
}

// narrow narrows v, a post-fixpoint, with o, an iterate below it: only
// the bounds v has none of (those at the end of the range, which a
// widening may have put there) are taken from o; the others are those of
// v.join(o).
func (v ival) narrow(o ival) ival {
	r := v.join(o)
	if v.smax == math.MaxInt64 {
		r.smax = o.smax
	}
	if v.smin == math.MinInt64 {
		r.smin = o.smin
	}
	if v.umax == math.MaxUint64 {
		r.umax = o.umax
	}
	if v.umin == 0 {
		r.umin = o.umin
	}
	return r
}

func (v ival) meet(o ival) ival {
	return ival{max(v.smin, o.smin), min(v.smax, o.smax), max(v.umin, o.umin), min(v.umax, o.umax)}.norm()
}

func (v ival) String() string {
	if v.isConst() {
		if v.smin < 0 {
			return fmt.Sprint(v.smin)
		}
		return fmt.Sprint(v.umin)
	}
	if v.smin >= 0 || v.umax > math.MaxInt64 && v.smin == math.MinInt64 && v.smax == math.MaxInt64 {
		return fmt.Sprintf("[%s, %s]", ustr(v.umin), ustr(v.umax))
	}
	return fmt.Sprintf("[%s, %s]", sstr(v.smin), sstr(v.smax))
}

func ustr(u uint64) string {
	if u == math.MaxUint64 {
		return "U64_MAX"
	}
	return fmt.Sprint(u)
}

func sstr(s int64) string {
	switch s {
	case math.MinInt64:
		return "S64_MIN"
	case math.MaxInt64:
		return "S64_MAX"
	}
	return fmt.Sprint(s)
}

// fitsU32 reports whether every value is a zero-extended 32-bit number.
func (v ival) fitsU32() bool { return v.umax <= math.MaxUint32 }

// low32 returns the interval of the low 32 bits, zero-extended.
func (v ival) low32() ival {
	switch {
	case v.isConst():
		return constIval(uint64(uint32(v.umin)))
	case v.umax <= math.MaxUint32:
		return urange(v.umin, v.umax)
	case v.umax-v.umin < 1<<32 && uint32(v.umin) <= uint32(v.umax):
		return urange(uint64(uint32(v.umin)), uint64(uint32(v.umax)))
	case v.smin >= math.MinInt32 && v.smax < 0:
		return urange(uint64(uint32(int32(v.smin))), uint64(uint32(int32(v.smax))))
	}
	return u32Ival
}

// s32 returns the signed 32-bit view of a zero-extended 32-bit interval.
func (v ival) s32() (int64, int64) {
	switch {
	case v.umax <= math.MaxInt32:
		return int64(v.umin), int64(v.umax)
	case v.umin > math.MaxInt32 && v.umax <= math.MaxUint32:
		return int64(int32(uint32(v.umin))), int64(int32(uint32(v.umax)))
	}
	return math.MinInt32, math.MaxInt32
}

// fromS32 zero-extends a signed 32-bit interval.
func fromS32(lo, hi int64) ival {
	switch {
	case lo >= 0:
		return urange(uint64(lo), uint64(hi))
	case hi < 0:
		return urange(uint64(uint32(int32(lo))), uint64(uint32(int32(hi))))
	}
	return u32Ival
}

// sext returns the interval of the value sign-extended from its low n
// bits (8, 16, 32).
func (v ival) sext(n uint) ival {
	half := uint64(1) << (n - 1)
	mask := half<<1 - 1
	if v.isConst() {
		x := v.umin & mask
		if x&half != 0 {
			x |= ^mask
		}
		return constIval(x)
	}
	if v.umax < half { // low bits are the whole value and positive
		return v
	}
	return srange(-int64(half), int64(half)-1)
}

// Abstract ALU operations. Each returns a sound interval for the result
// of the 64-bit operation; exact when both operands are constants.

func ivAdd(a, b ival) ival {
	r := topIval
	if lo, ok := addS(a.smin, b.smin); ok {
		if hi, ok := addS(a.smax, b.smax); ok {
			r.smin, r.smax = lo, hi
		}
	}
	if lo, c1 := bits.Add64(a.umin, b.umin, 0); c1 == 0 {
		if hi, c2 := bits.Add64(a.umax, b.umax, 0); c2 == 0 {
			r.umin, r.umax = lo, hi
		}
	}
	return r.norm()
}

func ivSub(a, b ival) ival {
	r := topIval
	if lo, ok := subS(a.smin, b.smax); ok {
		if hi, ok := subS(a.smax, b.smin); ok {
			r.smin, r.smax = lo, hi
		}
	}
	if a.umin >= b.umax {
		r.umin, r.umax = a.umin-b.umax, a.umax-b.umin
	}
	return r.norm()
}

func ivMul(a, b ival) ival {
	if a.isConst() && b.isConst() {
		return constIval(a.umin * b.umin)
	}
	r := topIval
	if hi, lo := bits.Mul64(a.umax, b.umax); hi == 0 {
		r.umin, r.umax = a.umin*b.umin, lo
	}
	// Signed corners, if none overflows.
	c := [4][2]int64{{a.smin, b.smin}, {a.smin, b.smax}, {a.smax, b.smin}, {a.smax, b.smax}}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	ok := true
	for _, p := range c {
		m, o := mulS(p[0], p[1])
		if !o {
			ok = false
			break
		}
		lo, hi = min(lo, m), max(hi, m)
	}
	if ok {
		r.smin, r.smax = lo, hi
	}
	return r.norm()
}

func ivUDiv(a, b ival) ival {
	if b.umin == 0 {
		// x / 0 is 0 in BPF; other divisors make the value smaller.
		if b.umax == 0 {
			return constIval(0)
		}
		return urange(0, a.umax)
	}
	return urange(a.umin/b.umax, a.umax/b.umin)
}

func ivUMod(a, b ival) ival {
	if b.umin == 0 {
		if b.umax == 0 {
			return a // x % 0 is x
		}
		return urange(0, a.umax)
	}
	if a.umax < b.umin {
		return a
	}
	return urange(0, min(a.umax, b.umax-1))
}

func ivSDiv(a, b ival) ival {
	// |a / b| <= |a|, and x / 0 is 0.
	m := max(absU(a.smin), absU(a.smax))
	if m > math.MaxInt64 {
		return topIval
	}
	if b.smin > 0 && a.smin >= 0 {
		return urange(a.umin/b.umax, a.umax/b.umin)
	}
	return srange(-int64(m), int64(m))
}

func ivSMod(a, b ival) ival {
	// The result has a's sign and |r| < |b| (x % 0 is x).
	mb := max(absU(b.smin), absU(b.smax))
	ma := max(absU(a.smin), absU(a.smax))
	m := ma
	if b.smin > 0 || b.smax < 0 {
		m = min(ma, mb-1)
	}
	if m > math.MaxInt64 {
		return topIval
	}
	lo, hi := -int64(m), int64(m)
	if a.smin >= 0 {
		lo = 0
	}
	if a.smax <= 0 {
		hi = 0
	}
	return srange(lo, hi)
}

func absU(x int64) uint64 {
	if x < 0 {
		return uint64(-(x + 1)) + 1
	}
	return uint64(x)
}

func ivAnd(a, b ival) ival {
	r := urange(0, min(a.umax, b.umax))
	if a.smin >= 0 || b.smin >= 0 {
		return r
	}
	// Both may be negative: the result is negative only if both are.
	return r.join(srange(math.MinInt64, -1)).norm()
}

func ivOr(a, b ival) ival {
	m := max(a.umax, b.umax)
	hi := uint64(math.MaxUint64)
	if m < 1<<63 {
		hi = 1<<bits.Len64(m) - 1
	}
	return urange(max(a.umin, b.umin), hi)
}

func ivXor(a, b ival) ival {
	m := max(a.umax, b.umax)
	hi := uint64(math.MaxUint64)
	if m < 1<<63 {
		hi = 1<<bits.Len64(m) - 1
	}
	return urange(0, hi)
}

// shiftAmounts returns the shift amounts an interval may stand for, after
// masking to the width.
func shiftAmounts(b ival, width uint64) (uint64, uint64) {
	if b.umax < width {
		return b.umin, b.umax
	}
	if b.isConst() {
		s := b.umin & (width - 1)
		return s, s
	}
	return 0, width - 1
}

func ivLsh(a, b ival) ival {
	lo, hi := shiftAmounts(b, 64)
	if a.umax == 0 {
		return constIval(0)
	}
	if bits.LeadingZeros64(a.umax) >= int(hi) {
		return urange(a.umin<<lo, a.umax<<hi)
	}
	if lim := int64(1) << (63 - hi); a.smin >= -lim && a.smax < lim {
		// No signed overflow: a number that may be negative, shifted
		// (clang's sign extension `r <<= 32; r s>>= 32` of an int that
		// a helper returned: an errno or a length).
		return srange(min(a.smin<<lo, a.smin<<hi), max(a.smax<<lo, a.smax<<hi))
	}
	return topIval
}

func ivRsh(a, b ival) ival {
	lo, hi := shiftAmounts(b, 64)
	return urange(a.umin>>hi, a.umax>>lo)
}

func ivArsh(a, b ival) ival {
	lo, hi := shiftAmounts(b, 64)
	return srange(min(a.smin>>lo, a.smin>>hi), max(a.smax>>lo, a.smax>>hi))
}

func ivNeg(a ival) ival {
	if a.isConst() {
		return constIval(-a.umin)
	}
	if a.smin != math.MinInt64 {
		return srange(-a.smax, -a.smin)
	}
	return topIval
}

func addS(a, b int64) (int64, bool) {
	s := a + b
	return s, !((a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0))
}

func subS(a, b int64) (int64, bool) {
	s := a - b
	return s, !((a >= 0 && b < 0 && s < 0) || (a < 0 && b > 0 && s >= 0))
}

func mulS(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return p, true
}
