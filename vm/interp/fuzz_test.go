package interp_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// FuzzChecked runs arbitrary valid programs in checked mode with a small
// budget and a 64-byte input region. Whatever the program does, the run must
// end with a result or an *vm.ExecError: never a panic, a fault or a hang.
func FuzzChecked(f *testing.F) {
	if dir, err := conformance.Dir(); err == nil {
		cases, err := conformance.LoadCases(filepath.Join(dir, "tests"))
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range cases {
			if p, err := isa.Assemble(c.Asm); err == nil {
				f.Add(isa.Encode(p), c.Mem)
			}
		}
	}
	f.Add([]byte{0x95, 0, 0, 0, 0, 0, 0, 0}, []byte{1, 2, 3})
	identity := func(_ *vm.RunContext, r1, _, _, _, _ uint64) (uint64, error) { return r1, nil }
	f.Fuzz(func(t *testing.T, code, mem []byte) {
		prog, err := isa.Decode(code)
		if err != nil || isa.Validate(prog) != nil {
			return
		}
		exe, err := interp.New().Compile(&vm.Program{Instructions: prog, Helpers: vm.Helpers{5: identity}}, vm.CompileOptions{Mode: vm.Checked})
		if err != nil {
			return
		}
		buf := make([]byte, 64)
		copy(buf, mem)
		rc := &vm.RunContext{Budget: 10000, Packet: mem, Regions: []vm.Region{vm.RegionOf("memory", buf, true)}}
		rc.Args[0], rc.Args[1] = uint64(rc.Regions[0].Start), 64
		_, err = exe.Run(rc)
		var ee *vm.ExecError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("run ended with %T %v, want *vm.ExecError", err, err)
		}
		if rc.Executed > 10000+uint64(len(prog)) {
			t.Fatalf("executed %d instructions with a budget of 10000", rc.Executed)
		}
	})
}
