package bpfhost_test

import (
	"encoding/binary"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// tailSubInputs are testdata/tailsub's packets: the slot to tail-call
// and the call path (0: entry -> pick, 1: entry -> deeper -> pick).
var tailSubInputs = []struct {
	slot, how byte
	want      uint32 // entry's result
}{
	{0, 0, 3},        // target, in pick's place
	{0, 1, 3 * 2},    // the same, one frame deeper
	{1, 0, 3},        // forward, which tail-calls target from its main function
	{2, 0, 100 + 33}, // recur in pick's place, nested until the 33 tail calls are spent
	{2, 1, (100 + 33) * 2},
	{3, 0, 50 + 3},       // an empty slot: pick goes on
	{9, 1, (50 + 9) * 2}, // out of range
}

// TestTailSubprograms runs testdata/tailsub in every engine: tail calls
// made in subprograms return the target's result to the subprogram's
// caller, whose frame survives; a failed one falls through; the 33 tail
// calls of a run are shared by the nested ones. The programs' counters
// in global data show which ran how often. TestAgreementTailSub checks the
// same against the kernel.
func TestTailSubprograms(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			spec, err := bpfhost.LoadCollectionSpec("testdata/tailsub/tailsub.o")
			if err != nil {
				t.Fatal(err)
			}
			coll, err := bpfhost.NewCollection(spec, engineOptions(engine))
			if err != nil {
				t.Fatal(err)
			}
			defer coll.Close()
			var wantSeen [4]uint64
			var wantGot [2]uint64
			var wantLow uint64
			for _, in := range tailSubInputs {
				pkt := make([]byte, 64)
				pkt[0], pkt[1] = in.slot, in.how
				ret, err := coll.Programs["entry"].Run(&bpfhost.RunOptions{Data: pkt})
				if err != nil || ret != in.want {
					t.Errorf("slot %d, path %d: %d, %v; want %d", in.slot, in.how, ret, err, in.want)
				}
				switch in.slot {
				case 0:
					wantSeen[0]++
				case 1:
					wantSeen[0]++
					wantSeen[1]++
				case 2:
					wantSeen[2] += 33
				default:
					wantSeen[3]++
				}
				wantGot[in.how] += uint64(in.want)
				if in.how == 0 && in.want < 50 {
					wantLow++
				}
			}
			// recur as the entry program: 33 tail calls after it.
			ret, err := coll.Programs["recur"].Run(&bpfhost.RunOptions{Data: make([]byte, 64)})
			if err != nil || ret != 100+34 {
				t.Errorf("recur: %d, %v; want %d", ret, err, 100+34)
			}
			wantSeen[2] += 34
			// spent: recur in pick's place spends the 33 tail calls; its
			// own tail call fails.
			ret, err = coll.Programs["spent"].Run(&bpfhost.RunOptions{Data: make([]byte, 64)})
			if err != nil || ret != 100+33+1000 {
				t.Errorf("spent: %d, %v; want %d", ret, err, 100+33+1000)
			}
			wantSeen[2] += 33
			bss := make([]byte, 56)
			if err := coll.Maps[".bss"].Lookup(uint32(0), bss); err != nil {
				t.Fatal(err)
			}
			for i, want := range append(append(wantSeen[:], wantGot[:]...), wantLow) {
				if got := binary.LittleEndian.Uint64(bss[8*i:]); got != want {
					t.Errorf("global %d: %d, want %d", i, got, want)
				}
			}
		})
	}
}
