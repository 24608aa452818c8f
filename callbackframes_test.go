package bpfhost_test

import (
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
)

// TestUnwrittenCallbackFramesEachCall: a bpf_loop callback that reads a
// stack slot it has not written (its frame starts unwritten on every
// call, to the verifier) and then spills its frame pointer there gets
// zeroes on every call, not the pointer the previous call left: the
// program stores what the last of three calls read, which must be 0 in
// both engines (decision 0018: each callback call clears its frame); the
// caller's 0x77 there would say the callback never ran.
func TestUnwrittenCallbackFramesEachCall(t *testing.T) {
	prog, err := isa.Assemble(`
		stdw [%r10-8], 0x77
		mov %r1, 3
		lddw %r2, 0
		mov %r3, %r10
		add %r3, -8
		mov %r4, 0
		call 181
		stw [%r10-12], 0
		lddw %r1, 0
		mov %r2, %r10
		add %r2, -12
		mov %r3, %r10
		add %r3, -8
		mov %r4, 0
		call 2
		mov %r0, 2
		exit
		ldxdw %r3, [%r10-16]
		stxdw [%r2+0], %r3
		stxdw [%r10-16], %r10
		mov %r0, 0
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	prog[2].Src, prog[2].Imm = isa.PseudoFunc, int32(len(prog)-5-3)
	prog[9].Src = isa.PseudoMapIdx
	spec := &bpfhost.CollectionSpec{
		Maps: []*bpfhost.MapSpec{{Name: "seen", Type: uint32(maps.Array), KeySize: 4, ValueSize: 8, MaxEntries: 1}},
		Programs: []*bpfhost.ProgramSpec{{Name: "p", Section: "xdp", License: "GPL", Instructions: prog,
			References: []object.Reference{{Slot: 9, Kind: object.RefMap, Name: "seen", Map: 0}}}},
	}
	for _, engine := range bpfhost.Engines() {
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Slots: 1})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if err := coll.Maps["seen"].Update(uint32(0), uint64(0xeeee), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := coll.Programs["p"].Run(&bpfhost.RunOptions{Data: make([]byte, 64)}); err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		var v uint64
		if err := coll.Maps["seen"].Lookup(uint32(0), &v); err != nil {
			t.Fatal(err)
		}
		if v != 0 {
			t.Errorf("%s: the third callback call read %#x from its unwritten slot, want 0", engine, v)
		}
		coll.Close()
	}
}
