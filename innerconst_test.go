package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
)

// TestInnerTemplateNotConstant: a map-in-map's inner template that looks
// like frozen read-only data (a .rodata name, BPF_F_RDONLY_PROG, one
// element, initial bytes) gave the verifier its bytes as constants, for
// loads from whatever inner map a lookup finds at run time. A program
// that added the number it loaded there (0 in the template, 0x40 in the
// inner map user space inserted) to a 16-byte map value and wrote there
// was accepted, and wrote past the end of the value. The template's bytes
// say nothing of the inner maps: the program must be refused.
func TestInnerTemplateNotConstant(t *testing.T) {
	prog, err := isa.Assemble(`
		stw [%r10-4], 0
		lddw %r1, 0
		mov %r2, %r10
		add %r2, -4
		call 1
		jne %r0, 0, +2
		mov %r0, 0
		exit
		mov %r1, %r0
		mov %r2, %r10
		add %r2, -4
		call 1
		jne %r0, 0, +2
		mov %r0, 0
		exit
		ldxdw %r6, [%r0+0]
		stw [%r10-4], 0
		lddw %r1, 1
		mov %r2, %r10
		add %r2, -4
		call 1
		jne %r0, 0, +2
		mov %r0, 0
		exit
		add %r0, %r6
		stdw [%r0+0], 0x41
		mov %r0, 2
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	prog[1].Src = isa.PseudoMapIdx
	prog[18].Src = isa.PseudoMapIdx
	tmpl := &bpfhost.MapSpec{Name: ".rodata.tmpl", Type: uint32(maps.Array), KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: maps.FlagRdOnlyProg, Data: make([]byte, 8)}
	spec := &bpfhost.CollectionSpec{
		Maps: []*bpfhost.MapSpec{
			{Name: "outer", Type: uint32(maps.ArrayOfMaps), KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: tmpl},
			{Name: "victim", Type: uint32(maps.Array), KeySize: 4, ValueSize: 16, MaxEntries: 1},
		},
		Programs: []*bpfhost.ProgramSpec{{Name: "a", Section: "xdp", License: "GPL", Instructions: prog,
			References: []object.Reference{{Slot: 1, Kind: object.RefMap, Name: "outer", Map: 0}, {Slot: 18, Kind: object.RefMap, Name: "victim", Map: 1}}}},
	}
	c, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Slots: 1})
	var ve *bpfhost.VerifierError
	if !errors.As(err, &ve) {
		if err == nil {
			c.Close()
		}
		t.Fatalf("%v; want the program refused (the inner map's value is not the template's)", err)
	}
}
