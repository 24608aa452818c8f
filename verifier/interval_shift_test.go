package verifier

import (
	"math"
	"testing"
)

// TestLshSigned: a left shift of a range that may be negative keeps its
// signed bounds where no value overflows (clang's sign extension of an
// int: `r <<= 32; r s>>= 32`), and every shifted value of the range lies
// in the result; where one may overflow, nothing is known.
func TestLshSigned(t *testing.T) {
	for _, tt := range []struct {
		a        ival
		lo, hi   uint64 // shift amounts
		min, max int64
		top      bool
	}{
		{srange(-4095, 48), 32, 32, -4095 << 32, 48 << 32, false},
		{srange(-3, 5), 1, 4, -48, 80, false},
		{srange(math.MinInt32, math.MaxInt32), 32, 32, math.MinInt32 << 32, math.MaxInt32 << 32, false},
		{srange(math.MinInt32-1, 0), 32, 32, 0, 0, true},
		{srange(-1, math.MaxInt32+1), 32, 32, 0, 0, true},
	} {
		b := urange(tt.lo, tt.hi)
		got := ivLsh(tt.a, b)
		if tt.top {
			if got != topIval {
				t.Errorf("%v << %v = %v, want nothing known", tt.a, b, got)
			}
			continue
		}
		if got.smin != tt.min || got.smax != tt.max {
			t.Errorf("%v << %v = [%d, %d], want [%d, %d]", tt.a, b, got.smin, got.smax, tt.min, tt.max)
		}
		for _, x := range []int64{tt.a.smin, tt.a.smax, (tt.a.smin + tt.a.smax) / 2, 0, -1} {
			if x < tt.a.smin || x > tt.a.smax {
				continue
			}
			for k := tt.lo; k <= tt.hi; k++ {
				v := uint64(x) << k
				if int64(v) < got.smin || int64(v) > got.smax || v < got.umin || v > got.umax {
					t.Errorf("%d << %d = %#x is outside %v", x, k, v, got)
				}
			}
		}
	}
}
