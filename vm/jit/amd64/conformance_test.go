package amd64_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// TestConformance runs every test of the suite, assembled with our
// assembler, in both memory modes, and every fixture's bytecode.
func TestConformance(t *testing.T) {
	dir, err := conformance.Dir()
	if err != nil {
		t.Skipf("conformance suite absent: %v", err)
	}
	cases, err := conformance.LoadCases(filepath.Join(dir, "tests"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 313 {
		t.Errorf("found %d tests, want 313", len(cases))
	}
	identity := func(_ *vm.RunContext, r1, _, _, _, _ uint64) (uint64, error) { return r1, nil }
	run := func(name string, prog []isa.Instruction, mem []byte, want uint64, mode vm.Mode) bool {
		exe, err := amd64.New().Compile(&vm.Program{Instructions: prog, Helpers: vm.Helpers{5: identity}}, vm.CompileOptions{Mode: mode})
		if err != nil {
			t.Errorf("%s (%v): %v", name, mode, err)
			return false
		}
		defer exe.Close()
		mem = append(heapBytes(len(mem))[:0], mem...)
		rc := &vm.RunContext{Value: mem}
		if len(mem) > 0 {
			rc.Regions = []vm.Region{vm.RegionOf("memory", mem, true)}
			rc.Args[0], rc.Args[1] = uint64(rc.Regions[0].Start), uint64(len(mem))
		}
		got, err := exe.Run(rc)
		if err != nil {
			t.Errorf("%s (%v): %v", name, mode, err)
			return false
		}
		if got != want {
			t.Errorf("%s (%v): r0 = %#x, want %#x", name, mode, got, want)
			return false
		}
		return true
	}
	for _, mode := range modes {
		passed := 0
		for _, c := range cases {
			prog, err := isa.Assemble(c.Asm)
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			if run(c.Name, prog, c.Mem, c.Result, mode) {
				passed++
			}
		}
		t.Logf("%v: %d of %d tests passed", mode, passed, len(cases))
	}

	fixtures, err := conformance.LoadFixtures(dir)
	if err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, f := range fixtures {
		code, err1 := f.Program()
		mem, err2 := f.Mem()
		want, err3 := f.Result()
		prog, err4 := isa.Decode(code)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			t.Errorf("%s: bad fixture", f.Name)
			continue
		}
		if run(f.Name, prog, mem, want, vm.Checked) {
			passed++
		}
	}
	t.Logf("fixtures: %d of %d passed", passed, len(fixtures))

	// Programs with non-zero unused fields are rejected.
	negative, err := conformance.LoadCases(filepath.Join(dir, "negative"))
	if err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for _, c := range negative {
		if !strings.HasPrefix(c.Name, "unused-") {
			continue
		}
		prog, err := isa.Decode(c.Raw)
		if err == nil {
			_, err = amd64.New().Compile(&vm.Program{Instructions: prog, Helpers: vm.Helpers{5: identity}}, vm.CompileOptions{})
		}
		if err == nil {
			t.Errorf("%s: compiled", c.Name)
			continue
		}
		rejected++
	}
	if rejected != 45 {
		t.Errorf("rejected %d unused-field programs, want 45", rejected)
	}
}
