package enginetest

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// FuzzMemSize is the size of the writable region fuzzed runs get in r1
// (r2 holds the size, r3..r5 hold 3, 4 and 5).
const FuzzMemSize = 128

// FuzzHelpers are the helpers fuzzed and generated programs may call.
// Helper 1 mixes its arguments and the call depth, so that a wrong argument
// or depth changes r0; helper 5 returns r1, as in the conformance suite.
var FuzzHelpers = vm.Helpers{1: mix, 5: identity}

// mix is helper 1 of FuzzHelpers.
func mix(rc *vm.RunContext, a, b, c, d, e uint64) (uint64, error) {
	v := (a^b<<1^c<<2^d<<3^e<<4)*0x9e3779b97f4a7c15 + uint64(rc.Depth)
	return v ^ v>>29, nil
}

// FuzzChecked runs arbitrary valid bytecode in checked mode on e, seeded
// with the conformance suite's programs: the fuzzer's input is the packet
// and the start of a FuzzMemSize-byte region, and the budget is 10,000
// instructions. Whatever the program does, the run must end with a result
// or an *vm.ExecError: never a panic, a fault or a hang.
func FuzzChecked(f *testing.F, e vm.Engine) {
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
	f.Fuzz(func(t *testing.T, code, mem []byte) {
		prog, err := isa.Decode(code)
		if err != nil || isa.Validate(prog) != nil {
			return
		}
		exe, err := e.Compile(&vm.Program{Instructions: prog, Helpers: FuzzHelpers}, vm.CompileOptions{Mode: vm.Checked})
		if errors.Is(err, ErrDisagree) {
			t.Fatal(err)
		}
		if err != nil {
			return
		}
		defer exe.Close()
		buf := heapBytes(FuzzMemSize)
		copy(buf, mem)
		rc := &vm.RunContext{Budget: 10000, Packet: mem, Regions: []vm.Region{vm.RegionOf("memory", buf, true)}, Value: buf}
		rc.Args = [5]uint64{uint64(rc.Regions[0].Start), FuzzMemSize, 3, 4, 5}
		_, err = exe.Run(rc)
		var ee *vm.ExecError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("run ended with %T %v, want *vm.ExecError\n%s", err, err, isa.Disassemble(prog))
		}
		if rc.Executed > 10000+uint64(len(prog)) {
			t.Fatalf("executed %d instructions with a budget of 10000", rc.Executed)
		}
	})
}
