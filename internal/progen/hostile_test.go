package progen

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
)

// Hostile programs are valid instruction sequences of both types, the same
// for the same seed, and get details wrong at about the rate asked for.
func TestHostile(t *testing.T) {
	g := NewHostile(rand.New(rand.NewPCG(1, 2)))
	again := NewHostile(rand.New(rand.NewPCG(1, 2)))
	types := map[HostileType]int{}
	flawed := 0
	calls := map[int32]bool{}
	for i := 0; i < 2000; i++ {
		p := g.Program()
		if err := isa.Validate(p.Instructions); err != nil {
			t.Fatalf("program %d: %v\n%s", i, err, p)
		}
		if q := again.Program(); !slices.Equal(p.Instructions, q.Instructions) {
			t.Fatalf("program %d differs between two generators with the same seed", i)
		}
		types[p.Type]++
		if len(p.Flaws) > 0 {
			flawed++
		}
		for _, in := range p.Instructions {
			if in.Opcode == isa.OpCall {
				calls[in.Imm] = true
			}
		}
	}
	if types[HostileXDP] == 0 || types[HostileTC] == 0 || types[HostileSocket] == 0 {
		t.Errorf("program types: %v", types)
	}
	if flawed < 200 || flawed > 1800 {
		t.Errorf("%d of 2000 programs flawed", flawed)
	}
	for _, id := range []int32{fnMapLookupElem, fnTailCall, fnXdpAdjustHead, fnXdpAdjustTail, fnSpinLock, fnSpinUnlock, fnRingbufReserve, fnRingbufSubmit, fnRingbufDiscard, fnLoop, fnSkLookupTcp, fnSkLookupUdp, fnSkcLookupTcp, fnSkRelease} {
		if !calls[id] {
			t.Errorf("no program calls helper %d", id)
		}
	}
}
