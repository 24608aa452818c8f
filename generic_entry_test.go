package bpfhost_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// genericProgram loads one program of bpfhost's generic type (section
// "bpfhost") written in the conformance assembler.
func genericProgram(t *testing.T, engine string, unverified bool, src string) *bpfhost.Program {
	t.Helper()
	insns, err := isa.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	spec := &bpfhost.CollectionSpec{Programs: []*bpfhost.ProgramSpec{{Name: "p", Section: "bpfhost", License: "GPL", Instructions: insns}}}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Unverified: unverified, Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	return coll.Programs["p"]
}

// TestGenericEntryMatchesVerifier is e8 and e11: the generic type's test run
// gives r1 and r2 what the verifier assumed from the type's descriptor: r1 is
// never NULL, even for an empty buffer, and a buffer over the type's packet
// size limit is refused instead of reaching a program that was verified for
// r2 <= the limit.
func TestGenericEntryMatchesVerifier(t *testing.T) {
	// r0 = 1 if r1 == 0, 2 if r2 > the limit, else 0: each probe reports
	// a branch the verifier judges impossible.
	src := `
		jeq %r1, 0, +3
		jgt %r2, 0xffff, +4
		mov %r0, 0
		exit
		mov %r0, 1
		exit
		mov %r0, 2
		exit`
	for _, tc := range []struct {
		engine     string
		unverified bool
	}{{"interp", false}, {"jit", false}, {"interp", true}} {
		p := genericProgram(t, tc.engine, tc.unverified, src)
		limit := p.TypeInfo().PacketSizeLimit()
		for _, n := range []int{0, 1, int(limit)} {
			got, err := p.Run(&bpfhost.RunOptions{Data: make([]byte, n)})
			if err != nil || got != 0 {
				t.Errorf("%s (unverified %v), %d bytes: r0 %d, %v; want 0 (non-NULL buffer, length within the limit)", tc.engine, tc.unverified, n, got, err)
			}
		}
		_, err := p.Run(&bpfhost.RunOptions{Data: make([]byte, limit+1)})
		if !errors.Is(err, bpfhost.ErrInvalid) || !errors.Is(err, platform.ErrEntry) || !strings.Contains(err.Error(), "at most 65535") {
			t.Errorf("%s: %d bytes: %v; want the buffer refused", tc.engine, limit+1, err)
		}
	}
}

// TestEntryArgs checks the descriptor's own rules.
func TestEntryArgs(t *testing.T) {
	generic := &platform.ProgramTypeInfo{Name: "g", Entry: []platform.RegKind{platform.RegPacketData, platform.RegPacketLength}, MaxPacketSize: 100}
	if args, err := generic.EntryArgs(0x1000, 100); err != nil || args != [5]uint64{0x1000, 100} {
		t.Errorf("EntryArgs(0x1000, 100) = %v, %v", args, err)
	}
	for _, c := range []struct {
		addr uint64
		n    int
	}{{0, 0}, {0x1000, 101}, {0x1000, -1}} {
		if _, err := generic.EntryArgs(c.addr, c.n); !errors.Is(err, platform.ErrEntry) {
			t.Errorf("EntryArgs(%#x, %d): %v; want ErrEntry", c.addr, c.n, err)
		}
	}
	withCtx := &platform.ProgramTypeInfo{Name: "c"}
	if _, err := withCtx.EntryArgs(0x1000, 1); !errors.Is(err, platform.ErrEntry) {
		t.Errorf("context type: %v; want ErrEntry", err)
	}
	if (&platform.ProgramTypeInfo{}).PacketSizeLimit() != platform.MaxPacketSize {
		t.Error("default packet size limit is not MaxPacketSize")
	}
}
