package verifier

import (
	"math"
	"testing"
)

// TestZoneCoveredSaturated: near -2^63, closure leaves bounds on x - y that
// differ between two zones although their variables' own bounds decide
// them; a loop head holding the tighter one still covers the other (a
// program with such constants was rejected as unsettled).
func TestZoneCoveredSaturated(t *testing.T) {
	mk := func(rel int64) *zone {
		z := newZone()
		z.setBounds(locReg(1), math.MinInt64, math.MinInt64)
		z.setBounds(locReg(9), 1, 4)
		z.m[z.index(locReg(1))*len(z.locs)+z.index(locReg(9))] = rel
		z.open = true
		return z
	}
	in, head := mk(math.MinInt64+255), mk(math.MinInt64+254)
	if in.leq(head) {
		t.Fatal("test premise: leq compares bound by bound")
	}
	if !zoneCovered(in, head) {
		t.Error("r1 = -2^63, r9 in [1, 4]: r1 - r9 <= -2^63+254 holds in every state, but the zone is not covered")
	}
	// A bound the variables' own bounds do not imply.
	tight := mk(math.MinInt64 + 254)
	tight.m[tight.index(locReg(9))*len(tight.locs)] = 2 // r9 <= 2
	if zoneCovered(in, tight) {
		t.Error("r9 in [1, 4] is covered by r9 <= 2")
	}
	if !sumAtMost(math.MinInt64, -5, math.MinInt64) || sumAtMost(math.MaxInt64-1, 5, math.MaxInt64-1) || sumAtMost(inf, -1, 0) {
		t.Error("sumAtMost overflows")
	}
}
