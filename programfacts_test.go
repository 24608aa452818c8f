package bpfhost_test

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// lookupSpec is an XDP program that looks key 1 up in an array map and
// returns the value, or 7 if the map has no such key.
func lookupSpec(t *testing.T) *bpfhost.CollectionSpec {
	t.Helper()
	insns := mustAssemble(t, `
		stw [%r10-4], 1
		mov %r2, %r10
		add %r2, -4
		lddw %r1, 0
		call 1
		jeq %r0, 0, +2
		ldxdw %r0, [%r0]
		exit
		mov %r0, 7
		exit`)
	insns[3].Src = isa.PseudoMapIdx
	return &bpfhost.CollectionSpec{
		Maps: []*bpfhost.MapSpec{{Name: "arr", Type: uint32(linux.MapArray), KeySize: 4, ValueSize: 8, MaxEntries: 4}},
		Programs: []*bpfhost.ProgramSpec{{Name: "look", Section: "xdp", License: "GPL", Instructions: insns,
			References: []object.Reference{{Slot: 3, Kind: object.RefMap, Name: "arr", Map: 0}}}},
		License: "GPL",
	}
}

// callCode returns the JIT's in-line code for the instruction at pc.
func callCode(t *testing.T, p *bpfhost.Program, pc int) string {
	t.Helper()
	blocks, err := p.JITListing()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range blocks {
		if b.PC == pc && !b.OutOfLine {
			out = append(out, b.Insns...)
		}
	}
	return strings.Join(out, "\n")
}

// TestLookupFactsFromVerifier checks that the JIT looks a map up in line
// where the verifier named the map of the call (verifier.Result.MapArgs),
// and calls the helper for a program loaded unverified, which has no such
// facts (decision 0016), although its r1 holds the same map pointer.
func TestLookupFactsFromVerifier(t *testing.T) {
	if bpfhost.EngineJIT.Available() != nil {
		t.Skip(bpfhost.EngineJIT.Available())
	}
	for _, unverified := range []bool{false, true} {
		coll, err := bpfhost.NewCollection(lookupSpec(t), &bpfhost.CollectionOptions{Engine: bpfhost.EngineJIT, Unverified: unverified})
		if err != nil {
			t.Fatal(err)
		}
		p := coll.Programs["look"]
		code := callCode(t, p, 5)
		if inline := !strings.Contains(code, "<exit>"); inline == unverified {
			t.Errorf("unverified %v: the lookup compiles to\n%s\nwant it in line only for the verified program", unverified, code)
		}
		// Either way the program finds the value.
		if err := coll.Maps["arr"].Update([]byte{1, 0, 0, 0}, []byte{42, 0, 0, 0, 0, 0, 0, 0}, bpfhost.UpdateAny); err != nil {
			t.Fatal(err)
		}
		if r0, err := p.Run(&bpfhost.RunOptions{Data: make([]byte, 64)}); err != nil || r0 != 42 {
			t.Errorf("unverified %v: r0 %d, %v; want 42", unverified, r0, err)
		}
		coll.Close()
	}
}
