package bpfhost

import (
	"math/rand/v2"
	"testing"
)

// TestContainmentTailSub runs testdata/tailsub's entry under the
// containment check on every input of TestTailSubprograms: the targets of
// tail calls made in subprograms are checked against their own
// verification, and each caller, when the target returns to it, against
// its own, with what the target left (any r0, packet pointers gone).
func TestContainmentTailSub(t *testing.T) {
	spec, err := LoadCollectionSpec("testdata/tailsub/tailsub.o")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCollection(spec, &CollectionOptions{Engine: "interp", Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var progs []*checkedProg
	var entry *checkedProg
	for _, ps := range spec.Programs {
		cp, err := checkProgram(spec, c.Programs[ps.Name])
		if err != nil {
			t.Fatal(err)
		}
		progs = append(progs, cp)
		if ps.Name == "entry" {
			entry = cp
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	containStats = containStatsT{}
	for _, in := range [][2]byte{{0, 0}, {0, 1}, {1, 0}, {2, 0}, {2, 1}, {3, 0}, {9, 1}} {
		pkt := make([]byte, 64)
		pkt[0], pkt[1] = in[0], in[1]
		if _, err := containedRunOn(c, spec, entry, progs, rng, pkt, ".bss"); err != nil {
			t.Errorf("slot %d, path %d: %v", in[0], in[1], err)
		}
	}
	// target once per path, forward and target, recur 33 times per path;
	// all but forward's in subprograms.
	if want := 2 + 2 + 2*33; containStats.tails != want || containStats.nested != want-1 {
		t.Errorf("%d tail calls checked, %d in subprograms; want %d, %d", containStats.tails, containStats.nested, want, want-1)
	}
}
