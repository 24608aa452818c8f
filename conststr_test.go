package bpfhost_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
)

// snprintfFromMap is an XDP program that formats with bpf_snprintf the
// string at the start of map 0's value at key 0 (no arguments) into 64
// bytes of stack, stores them in map 1 and returns the helper's result.
const snprintfFromMap = `
	mov %r6, %r1
	stw [%r10-4], 0
	mov %r2, %r10
	add %r2, -4
	lddw %r1, 0
	call 1
	jne %r0, 0, +2
	mov %r0, 0
	exit
	mov %r3, %r0
	mov %r1, %r10
	add %r1, -64
	mov %r2, 64
	mov %r4, 0
	mov %r5, 0
	call 165
	mov %r7, %r0
	stw [%r10-4], 0
	lddw %r1, 1
	mov %r2, %r10
	add %r2, -4
	mov %r3, %r10
	add %r3, -64
	mov %r4, 0
	call 2
	mov %r0, %r7
	exit`

// TestConstStringEndsInValue: a helper's constant string (bpf_snprintf's
// format, bpf_strncmp's second string) must lie in frozen read-only data
// and end, NUL included, within its map value, as Linux checks at load
// time. The verifier checked one byte: the format in a BPF_F_RDONLY_PROG
// map that user space fills ("AAAAAAAA", no NUL) was read on into the next
// value ("SECRET"), and the program stored "AAAAAAAASECRET", in both
// engines.
func TestConstStringEndsInValue(t *testing.T) {
	prog, err := isa.Assemble(snprintfFromMap)
	if err != nil {
		t.Fatal(err)
	}
	var refs []object.Reference
	for pc, ins := range prog {
		if ins.IsLoadImm64() && ins.Dst == 1 {
			prog[pc].Src = isa.PseudoMapIdx
			refs = append(refs, object.Reference{Slot: pc, Kind: object.RefMap, Name: []string{"str", "out"}[ins.Imm], Map: int(ins.Imm)})
		}
	}
	out := &bpfhost.MapSpec{Name: "out", Type: uint32(maps.Array), KeySize: 4, ValueSize: 64, MaxEntries: 1}
	spec := func(str *bpfhost.MapSpec) *bpfhost.CollectionSpec {
		return &bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{str, out},
			Programs: []*bpfhost.ProgramSpec{{Name: "p", Section: "xdp", License: "GPL", Instructions: prog, References: refs}}}
	}
	for _, c := range []struct {
		name string
		str  *bpfhost.MapSpec
		want string // in the refusal
	}{
		{"a read-only map user space writes", &bpfhost.MapSpec{Name: "str", Type: uint32(maps.Array), KeySize: 4, ValueSize: 8, MaxEntries: 2, Flags: maps.FlagRdOnlyProg}, "may change after verification"},
		{"frozen data without a NUL", &bpfhost.MapSpec{Name: ".rodata", Type: uint32(maps.Array), KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: maps.FlagRdOnlyProg, Data: []byte("AAAAAAAA")}, "not NUL-terminated"},
	} {
		_, err := bpfhost.NewCollection(spec(c.str), &bpfhost.CollectionOptions{Slots: 1})
		var ve *bpfhost.VerifierError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want a rejection saying %q", c.name, err, c.want)
		}
	}
	ro := &bpfhost.MapSpec{Name: ".rodata", Type: uint32(maps.Array), KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: maps.FlagRdOnlyProg, Data: []byte("AAAA\x00BBB")}
	for _, engine := range bpfhost.Engines() {
		coll, err := bpfhost.NewCollection(spec(ro), &bpfhost.CollectionOptions{Engine: engine, Slots: 1})
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		r, err := coll.Programs["p"].Run(&bpfhost.RunOptions{Data: make([]byte, 64)})
		got, _ := coll.Maps["out"].LookupBytes(uint32(0))
		coll.Close()
		if err != nil || r != 5 || !bytes.Equal(got[:8], []byte("AAAA\x00\x00\x00\x00")) {
			t.Errorf("%s: %d, %v, %q; want 5 and AAAA", engine, r, err, got[:8])
		}
	}
}

// TestConstStringFromMapKey: the key a bpf_for_each_map_elem callback
// receives is read-only memory of the map's own, not frozen data, so it
// may not be a constant string either. It was accepted (a read-only map
// value to the verifier): in a trusted run, where the keys lie in no
// region of the run, bpf_snprintf looked for the format's NUL in up to 64
// KiB of the memory after the key.
func TestConstStringFromMapKey(t *testing.T) {
	prog, err := isa.Assemble(`
		lddw %r1, 0
		lddw %r2, 0
		mov %r3, 0
		mov %r4, 0
		call 164
		mov %r0, 2
		exit
		mov %r3, %r2
		mov %r1, %r10
		add %r1, -64
		mov %r2, 64
		mov %r4, 0
		mov %r5, 0
		call 165
		mov %r0, 1
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	prog[0].Src = isa.PseudoMapIdx
	prog[2].Src, prog[2].Imm = isa.PseudoFunc, 9-3
	spec := &bpfhost.CollectionSpec{
		Maps: []*bpfhost.MapSpec{{Name: "h", Type: uint32(maps.Hash), KeySize: 4, ValueSize: 8, MaxEntries: 4}},
		Programs: []*bpfhost.ProgramSpec{{Name: "p", Section: "xdp", License: "GPL", Instructions: prog,
			References: []object.Reference{{Slot: 0, Kind: object.RefMap, Name: "h", Map: 0}}}},
	}
	_, err = bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Slots: 1})
	var ve *bpfhost.VerifierError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "bpf_snprintf needs a string in frozen read-only data") {
		t.Errorf("%v; want the key refused as bpf_snprintf's format", err)
	}
}
