package verifier

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestForgetRange checks that forgetRange leaves the zone forgetting each
// location of the range in turn leaves, and that ensure gives the same
// matrix whether it grows the matrix in place or into a new one.
func TestForgetRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pool := []loc{locPkt, locMeta, locReg(0), locReg(1), locReg(2), locReg(3), locReg(5), locReg(6), locReg(10), locSaved(0, 6), locSpill(0, -8), locSpill(0, -16), locCounter(0, 7)}
	for round := 0; round < 500; round++ {
		z := newZone()
		for step := 0; step < 12; step++ {
			l := pool[rng.IntN(len(pool))]
			a, b := int64(rng.IntN(200))-100, int64(rng.IntN(200))-100
			switch rng.IntN(3) {
			case 0:
				z.setBounds(l, min(a, b), max(a, b))
			case 1:
				z.addConstraint(l, pool[rng.IntN(len(pool))], a)
			default:
				z.assign(l, pool[rng.IntN(len(pool))], min(a, b), max(a, b))
			}
		}
		// ensure into spare capacity and into a new matrix agree.
		l := pool[rng.IntN(len(pool))]
		roomy := &zone{locs: slices.Clone(z.locs), m: append(make([]int64, 0, 4*len(z.m)+64), z.m...)}
		tight := &zone{locs: slices.Clone(z.locs), m: slices.Clip(slices.Clone(z.m))}
		roomy.ensure(l)
		tight.ensure(l)
		if !roomy.equal(tight) {
			t.Fatalf("round %d: ensure(%s) in place gives %v, into a new matrix %v", round, locName(l), roomy.m, tight.m)
		}
		lo, hi := pool[rng.IntN(len(pool))], pool[rng.IntN(len(pool))]
		lo, hi = min(lo, hi), max(lo, hi)
		if rng.IntN(4) == 0 {
			lo = locZero
		}
		want := z.clone()
		for _, x := range slices.Clone(want.locs) {
			if x >= lo && x <= hi {
				want.forget(x)
			}
		}
		got := z.clone()
		got.forgetRange(lo, hi)
		if !got.equal(want) {
			t.Fatalf("round %d: forgetRange(%s, %s) of %v: got %v %v, want %v %v", round, locName(lo), locName(hi), z.locs, got.locs, got.m, want.locs, want.m)
		}
	}
}
