package amd64_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// withFacts gives a test program the map facts the verifier would give it
// (amd64.ConstantMapArgs) and returns it.
func withFacts(p *vm.Program) *vm.Program {
	p.MapArgs = amd64.ConstantMapArgs(p)
	return p
}

// TestMapLookupFacts checks that the engine looks a map up in line only
// where the program's facts name the map (vm.Program.MapArgs): without
// them, or with a fact of 0 at the call, the code is the plain engine's,
// a call of the helper, although r1 holds a map pointer the engine's
// Options.Maps resolves.
func TestMapLookupFacts(t *testing.T) {
	host := newMapHost()
	hs := helpers.New(host)
	inline := amd64.NewWithOptions(amd64.Options{Maps: host.native})
	for _, lm := range lookupMaps(t, host, 4) {
		prog, err := isa.Assemble(lookupSource(lm.ptr, 1, false))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := callListing(t, amd64.New(), &vm.Program{Instructions: prog, Helpers: hs})
		with, _ := callListing(t, inline, withFacts(&vm.Program{Instructions: prog, Helpers: hs}))
		// (Lookups through Elem leave like the helper call does: their
		// code may look the same.)
		if !strings.Contains(with, lm.kind) || with == plain && !strings.Contains(lm.kind, "<exit>") {
			t.Errorf("%s: with the facts the lookup compiles to\n%s\nwant %q", lm.name, with, lm.kind)
		}
		for _, args := range [][]uint64{nil, make([]uint64, len(prog))} {
			text, _ := callListing(t, inline, &vm.Program{Instructions: prog, Helpers: hs, MapArgs: args})
			if text != plain {
				t.Errorf("%s: facts %v: the lookup compiles to\n%s\nwant the helper call\n%s", lm.name, args, text, plain)
			}
		}
	}
	// Facts that do not fit the program are an error, not a guess.
	prog, _ := isa.Assemble(lookupSource(0x1000, 1, false))
	_, err := inline.Compile(&vm.Program{Instructions: prog, Helpers: hs, MapArgs: make([]uint64, 3)}, vm.CompileOptions{})
	var ce *vm.CompileError
	if !errors.As(err, &ce) {
		t.Errorf("facts for 3 slots: %v", err)
	}
}
