package bpfhost_test

import (
	"bytes"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/verifier"
	"github.com/bpfhost/bpfhost/vm"
)

// TestUnwrittenStackReadsZero ties the verifier's rule for helper reads of
// unwritten stack to the engines' guarantee: one program leaves a secret
// and a pointer in its frame; the next run, on the same slot, passes its
// own unwritten frame bytes to bpf_map_update_elem, which the verifier
// allows because every run starts with the entry frame zeroed. The map
// must receive zeroes, in both engines.
func TestUnwrittenStackReadsZero(t *testing.T) {
	if vm.EntryFrameZeroed != verifier.EntryFrameZeroed {
		t.Fatal("vm and verifier disagree on whether runs start with a zeroed entry frame")
	}
	leave, err := isa.Assemble(`
		lddw %r2, 0x5ec2e75ec2e7
		stxdw [%r10-24], %r2
		stxdw [%r10-16], %r1
		stxdw [%r10-8], %r2
		mov %r0, 2
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	peek, err := isa.Assemble(`
		stw [%r10-4], 0
		lddw %r1, 0
		mov %r2, %r10
		add %r2, -4
		mov %r3, %r10
		add %r3, -24
		mov %r4, 0
		call 2
		mov %r0, 2
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	peek[1].Src = isa.PseudoMapIdx // the map "seen"
	spec := &bpfhost.CollectionSpec{
		Maps: []*bpfhost.MapSpec{{Name: "seen", Type: 2, KeySize: 4, ValueSize: 16, MaxEntries: 1}},
		Programs: []*bpfhost.ProgramSpec{
			{Name: "leave", Section: "xdp", License: "GPL", Instructions: leave},
			{Name: "peek", Section: "xdp", License: "GPL", Instructions: peek,
				References: []object.Reference{{Slot: 1, Kind: object.RefMap, Name: "seen", Map: 0}}},
		},
	}
	for _, engine := range bpfhost.Engines() {
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Slots: 1})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		for _, name := range []string{"leave", "peek"} {
			if _, err := coll.Programs[name].Run(&bpfhost.RunOptions{Data: make([]byte, 64)}); err != nil {
				t.Fatalf("%s: %s: %v", engine, name, err)
			}
		}
		got, err := coll.Maps["seen"].LookupBytes(uint32(0))
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if !bytes.Equal(got, make([]byte, 16)) {
			t.Errorf("%s: the helper read %x from unwritten stack, want zeroes", engine, got)
		}
		coll.Close()
	}
}
