package bpfhost

import (
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/internal/socktest"
)

// TestContainmentSocketLookups runs testdata/sklookup's programs under the
// containment check on packets for sockets the test holds, so that the
// runs hold sockets: every step's socket pointers must be the sockets the
// run holds, and what the run holds must be what the verifier believes
// (the random inputs of TestContainmentObjects find no socket). Skips
// where bpfhost cannot ask the host for sockets.
func TestContainmentSocketLookups(t *testing.T) {
	packets := socktest.Open(t).Packets()
	spec, err := LoadCollectionSpec("testdata/sklookup/sklookup.o")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCollection(spec, &CollectionOptions{Engine: "interp", Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	containStats = containStatsT{}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"tc_sklookup", "xdp_sklookup"} {
		cp, err := checkProgram(spec, c.Programs[name])
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range packets {
			cp.input = p.Data
			// Keep the map "seen" as the runs leave it: runs record
			// into the element of their counter.
			if _, err := containedRun(c, spec, cp, []*checkedProg{cp}, rng, "seen", ".bss"); err != nil {
				t.Errorf("%s, packet %d: %v", name, i+1, err)
			}
		}
	}
	// Each program holds a socket for the steps between each of its two
	// lookups and the releases, on the packets that name a socket.
	t.Logf("%s", &containStats)
	if containStats.sockets == 0 {
		t.Errorf("no step was checked while the run held a socket: %s", &containStats)
	}
}
