package bpfhost_test

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// TestUnwrittenCallFramesReadZero ties the verifier's rule for reads of
// unwritten bytes in called functions' frames, and for direct loads, to the
// engines' guarantee (vm.CallFramesZeroed, vm.EntryFrameZeroed). "leave"
// leaves a secret and a pointer in its entry frame and, through the call
// of f, in frame 1. "peek" loads unwritten bytes of its entry frame, then
// calls f (which leaves the same in frame 1) and g, whose frame is that
// same memory: g loads unwritten bytes and passes unwritten bytes to
// bpf_map_update_elem; then f again, and a bpf_loop callback, whose frame
// is that memory too, loads unwritten bytes. The map must receive zeroes,
// in both engines.
func TestUnwrittenCallFramesReadZero(t *testing.T) {
	if vm.CallFramesZeroed != verifier.CallFramesZeroed {
		t.Fatal("vm and verifier disagree on whether calls start with a zeroed frame")
	}
	const f = `
	f:
		lddw %r2, 0x5ec2e75ec2e7
		stxdw [%r10-24], %r2
		stxdw [%r10-16], %r1
		stxdw [%r10-8], %r2
		mov %r0, 0
		exit`
	leave, err := isa.Assemble(`
		lddw %r2, 0x5ec2e75ec2e7
		stxdw [%r10-16], %r2
		stxdw [%r10-8], %r1
		call local f
		mov %r0, 2
		exit` + f)
	if err != nil {
		t.Fatal(err)
	}
	// update stores the 16 bytes at r10-40 under key k (written at r10-44)
	// in the map "seen" (the lddw's reference).
	update := func(k int) string {
		return fmt.Sprintf(`
		stw [%%r10-44], %d
		lddw %%r1, 0
		mov %%r2, %%r10
		add %%r2, -44
		mov %%r3, %%r10
		add %%r3, -40
		mov %%r4, 0
		call 2`, k)
	}
	cb := `
		ldxdw %r2, [%r10-16]
		ldxdw %r3, [%r10-8]
		stxdw [%r10-40], %r2
		stxdw [%r10-32], %r3` + update(3) + `
		mov %r0, 1
		exit`
	cbInsns, err := isa.Assemble(cb)
	if err != nil {
		t.Fatal(err)
	}
	peek, err := isa.Assemble(`
		mov %r6, %r1
		ldxdw %r2, [%r10-16]
		ldxdw %r3, [%r10-8]
		stxdw [%r10-40], %r2
		stxdw [%r10-32], %r3` + update(0) + `
		mov %r1, %r6
		call local f
		call local g
		mov %r1, %r6
		call local f
		mov %r1, 1
		lddw %r2, 0
		mov %r3, 0
		mov %r4, 0
		call 181
		mov %r0, 2
		exit` + f + `
	g:
		ldxdw %r2, [%r10-16]
		ldxdw %r3, [%r10-8]
		stxdw [%r10-40], %r2
		stxdw [%r10-32], %r3` + update(1) + `
		stw [%r10-4], 2
		lddw %r1, 0
		mov %r2, %r10
		add %r2, -4
		mov %r3, %r10
		add %r3, -24
		mov %r4, 0
		call 2
		mov %r0, 0
		exit` + cb)
	if err != nil {
		t.Fatal(err)
	}
	// The lddw of r2 loads the callback bpf_loop runs once (the last
	// instructions), one frame below the entry function, as g's call.
	for pc, ins := range peek {
		if ins.IsLoadImm64() && ins.Imm == 0 && ins.Dst == 2 {
			peek[pc].Src, peek[pc].Imm = isa.PseudoFunc, int32(len(peek)-len(cbInsns)-(pc+1))
		}
	}
	var refs []object.Reference
	for pc, ins := range peek {
		if ins.IsLoadImm64() && ins.Imm == 0 && ins.Dst == 1 {
			peek[pc].Src = isa.PseudoMapIdx
			refs = append(refs, object.Reference{Slot: pc, Kind: object.RefMap, Name: "seen", Map: 0})
		}
	}
	spec := &bpfhost.CollectionSpec{
		Maps: []*bpfhost.MapSpec{{Name: "seen", Type: 2, KeySize: 4, ValueSize: 16, MaxEntries: 4}},
		Programs: []*bpfhost.ProgramSpec{
			{Name: "leave", Section: "xdp", License: "GPL", Instructions: leave},
			{Name: "peek", Section: "xdp", License: "GPL", Instructions: peek, References: refs},
		},
	}
	// The facts reach the engines from NewCollection's own verification,
	// and from a verifier elsewhere (the daemon's process) through JSON.
	verified, err := bpfhost.VerifyCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(verified)
	if err != nil {
		t.Fatal(err)
	}
	var handed map[string]*bpfhost.VerifiedProgram
	if err := json.Unmarshal(js, &handed); err != nil {
		t.Fatal(err)
	}
	if !handed["peek"].Facts.ZeroCallFrames {
		t.Fatal("the facts handed over do not say peek's calls must clear their frames")
	}
	for _, v := range []map[string]*bpfhost.VerifiedProgram{nil, handed} {
		for _, engine := range bpfhost.Engines() {
			where := string(engine)
			if v != nil {
				where += " (verified elsewhere)"
			}
			runPeek(t, spec, engine, v, where)
		}
	}
}

// runPeek runs TestUnwrittenCallFramesReadZero's programs on engine
// and checks what "peek" stored; where names the setting in messages.
func runPeek(t *testing.T, spec *bpfhost.CollectionSpec, engine bpfhost.Engine, verified map[string]*bpfhost.VerifiedProgram, where string) {
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Slots: 1, Verified: verified})
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	defer coll.Close()
	for _, name := range []string{"leave", "peek"} {
		// Fill the map with non-zero bytes first, so a missing
		// update cannot pass for zeroes read.
		if name == "peek" {
			for k := range uint32(4) {
				if err := coll.Maps["seen"].Update(k, bytes.Repeat([]byte{0xee}, 16), 0); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
			}
		}
		if _, err := coll.Programs[name].Run(&bpfhost.RunOptions{Data: make([]byte, 64)}); err != nil {
			t.Fatalf("%s: %s: %v", where, name, err)
		}
	}
	for k, what := range []string{"loads of the entry frame", "loads of a callee's frame", "a helper's read of a callee's frame", "loads of a callback's frame"} {
		got, err := coll.Maps["seen"].LookupBytes(uint32(k))
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if !bytes.Equal(got, make([]byte, 16)) {
			t.Errorf("%s: %s got %x from unwritten stack, want zeroes", where, what, got)
		}
	}
}
