package progen

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
)

// Precision programs are valid XDP programs, the same for the same seed,
// use every fragment kind, name the map as HostileArray and get some
// details wrong.
func TestPrecision(t *testing.T) {
	g := NewPrecision(rand.New(rand.NewPCG(3, 4)))
	again := NewPrecision(rand.New(rand.NewPCG(3, 4)))
	flawed, maps := 0, 0
	calls := map[int32]bool{}
	for i := 0; i < 2000; i++ {
		p := g.Program()
		if err := isa.Validate(p.Instructions); err != nil {
			t.Fatalf("program %d: %v\n%s", i, err, p.Source)
		}
		if q := again.Program(); !slices.Equal(p.Instructions, q.Instructions) || q.Source != p.Source {
			t.Fatalf("program %d differs between two generators with the same seed", i)
		}
		if p.Type != HostileXDP || !p.Instructions[len(p.Instructions)-1].IsExit() {
			t.Fatalf("program %d: not an XDP program ending in exit:\n%s", i, p.Source)
		}
		if len(p.Flaws) > 0 {
			flawed++
		}
		for pc, in := range p.Instructions {
			if in.Opcode == isa.OpCall && in.Src == isa.CallHelper {
				calls[in.Imm] = true
			}
			if in.IsLoadImm64() && in.Src == isa.PseudoMapIdx {
				if in.Imm != HostileArray {
					t.Fatalf("program %d, insn %d: map %d", i, pc, in.Imm)
				}
				maps++
			}
		}
	}
	if flawed < 200 || flawed > 1900 {
		t.Errorf("%d of 2000 programs flawed", flawed)
	}
	if maps == 0 {
		t.Error("no lddw of the map")
	}
	// Every fragment's helper: lookup, ktime, prandom, check_mtu,
	// xdp_load_bytes, strtol.
	for _, id := range []int32{1, 5, 7, 105, 163, 189} {
		if !calls[id] {
			t.Errorf("no call of helper %d", id)
		}
	}
}
