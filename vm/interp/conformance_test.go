package interp_test

import (
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// TestConformance runs every test file of the suite, assembled with our
// assembler, in both memory modes.
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
	for _, mode := range []vm.Mode{vm.Trusted, vm.Checked} {
		for _, c := range cases {
			prog, err := isa.Assemble(c.Asm)
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			exe, err := interp.New().Compile(&vm.Program{Instructions: prog, Helpers: vm.Helpers{5: identity}}, vm.CompileOptions{Mode: mode})
			if err != nil {
				t.Errorf("%s (%v): %v", c.Name, mode, err)
				continue
			}
			mem := append([]byte(nil), c.Mem...)
			rc := &vm.RunContext{}
			if len(mem) > 0 {
				rc.Regions = []vm.Region{vm.RegionOf("memory", mem, true)}
				rc.Args[0], rc.Args[1] = uint64(rc.Regions[0].Start), uint64(len(mem))
			}
			got, err := exe.Run(rc)
			if err != nil {
				t.Errorf("%s (%v): %v", c.Name, mode, err)
			} else if got != c.Result {
				t.Errorf("%s (%v): r0 = %#x, want %#x", c.Name, mode, got, c.Result)
			}
		}
	}
}
