package enginetest

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// Conformance runs every test file of the suite, assembled with our
// assembler, and every fixture's bytecode, in both memory modes, on engine.
// It skips where ../shared/conformance is absent.
func Conformance(t *testing.T, engine vm.Engine) {
	dir, err := conformance.Dir()
	if err != nil {
		t.Skipf("conformance suite absent: %v", err)
	}
	cases, fixtures, err := conformance.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 313 || len(fixtures) != 313 {
		t.Errorf("found %d tests and %d fixtures, want 313 each", len(cases), len(fixtures))
	}
	run := func(name string, prog []isa.Instruction, mem []byte, want uint64, mode vm.Mode) bool {
		t.Helper()
		exe, err := engine.Compile(&vm.Program{Instructions: prog, Helpers: vm.Helpers{5: identity}}, vm.CompileOptions{Mode: mode})
		if err != nil {
			t.Errorf("%s (%v): %v", name, mode, err)
			return false
		}
		defer exe.Close()
		rc := &vm.RunContext{}
		if len(mem) > 0 {
			buf := append([]byte(nil), mem...) // the region keeps it on the heap
			rc.Regions = []vm.Region{vm.RegionOf("memory", buf, true)}
			rc.Args[0], rc.Args[1] = uint64(rc.Regions[0].Start), uint64(len(buf))
		}
		got, err := exe.Run(rc)
		switch {
		case err != nil:
			t.Errorf("%s (%v): %v", name, mode, err)
		case got != want:
			t.Errorf("%s (%v): r0 = %#x, want %#x", name, mode, got, want)
		default:
			return true
		}
		return false
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
		for _, f := range fixtures {
			code, err := f.Program()
			if err != nil {
				t.Fatal(err)
			}
			mem, _ := f.Mem()
			want, _ := f.Result()
			prog, err := isa.Decode(code)
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			if run(f.Name+" (fixture)", prog, mem, want, mode) {
				passed++
			}
		}
		t.Logf("%s, %v mode: %d of %d tests and fixtures passed", engine.Name(), mode, passed, len(cases)+len(fixtures))
	}
}
