package verifier

import (
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/internal/progen"
)

// TestSoundnessPrecision runs progen.Precision programs through the soundness
// harness (TestSoundness's): accepted ones run in the checked
// interpreter under the containment check. Longer with
// -verifier.soundness (programs: 4 times the flag), other programs with
// -verifier.seed and -verifier.shard.
func TestSoundnessPrecision(t *testing.T) {
	n := *soundnessN * 4
	if n == 0 {
		n = 300
	}
	seed, err := shardSeed(*soundnessSeed, *soundnessShard)
	if err != nil {
		t.Fatal(err)
	}
	g := progen.NewPrecision(rand.New(rand.NewPCG(seed+9, 40)))
	h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(seed+9, 41))}
	accepted := 0
	for i := 0; i < n; i++ {
		p := g.Program()
		before := h.accepted
		if v := h.try(p.Instructions, fuzzMaps); v != nil {
			t.Logf("source:\n%s", p.Source)
			h.fail(v)
		}
		accepted += h.accepted - before
	}
	t.Logf("precision shapes: %d programs, %d accepted, %d runs, %d instructions contained", n, accepted, h.runs, h.steps)
	if accepted == 0 {
		t.Error("no program accepted: the test checks nothing")
	}
}
