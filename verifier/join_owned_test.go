package verifier

import (
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestJoinOwned: joining into a state that is dropped after (its zone's
// memory reused) gives the join, whether the zones have the same
// locations or not, and leaves the other state as it was.
func TestJoinOwned(t *testing.T) {
	a := newAnalyzer([]isa.Instruction{{Opcode: isa.OpExit}}, &Options{Type: xdpInfo(t), ABI: linux.ABI()})
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 300; round++ {
		x := a.entryState()
		y := x.clone()
		for _, s := range []*state{x, y} {
			for k := 0; k < 4; k++ {
				r := 6 + rng.IntN(4)
				lo := int64(rng.IntN(100)) - 50
				if rng.IntN(5) == 0 {
					s.setUninit(r)
					continue
				}
				s.set(r, value{kind: kScalar}, ival{lo, lo + int64(rng.IntN(50)), 0, ^uint64(0)})
				if rng.IntN(3) == 0 {
					s.z.addConstraint(locReg(r), locReg(6+rng.IntN(4)), int64(rng.IntN(20)))
				}
			}
		}
		yBefore := y.clone()
		want := join(x.clone(), y, false, nil)
		got := joinOwned(x.clone(), y)
		if !got.z.equal(want.z) || got.z.open != want.z.open || !got.equalTypes(want) {
			t.Fatalf("round %d: joinOwned gives %s, join %s", round, got, want)
		}
		if !y.z.equal(yBefore.z) || !y.equalTypes(yBefore) {
			t.Fatalf("round %d: joinOwned changed its second state", round)
		}
	}
}
