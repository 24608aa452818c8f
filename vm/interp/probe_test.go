package interp_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// TestProbeLoads: a probing load (vm.Program.ProbeLoads) reads the value
// at an address in the run's memory and 0 anywhere else, in trusted and
// checked runs of both engines, zero- or sign-extended as its opcode says.
func TestProbeLoads(t *testing.T) {
	// r0 = *(u32 *)(r1 + 4) + *(s8 *)(r1 + 0) (both probing)
	prog, err := isa.Assemble("ldxw %r0, [%r1+4]\nldxsb %r2, [%r1+0]\nadd %r0, %r2\nexit")
	if err != nil {
		t.Fatal(err)
	}
	p := &vm.Program{Instructions: prog, ProbeLoads: []int{0, 1}}
	mem := []byte{0xfe, 0, 0, 0, 0x10, 0x20, 0x30, 0x40}
	tests := []struct {
		name string
		addr func(r vm.Region) uint64
		want uint64
	}{
		{"in the region", func(r vm.Region) uint64 { return uint64(r.Start) }, 0x40302010 - 2},
		{"NULL", func(vm.Region) uint64 { return 0 }, 0},
		{"wild", func(vm.Region) uint64 { return 0xffff_8880_dead_0000 }, 0},
		{"straddling the region's end", func(r vm.Region) uint64 { return uint64(r.Start) + 2 }, 0},
		{"wrapping", func(vm.Region) uint64 { return ^uint64(0) - 1 }, 0},
	}
	for _, engine := range []vm.Engine{interp.New(), amd64.New()} {
		for _, mode := range []vm.Mode{vm.Trusted, vm.Checked} {
			exe, err := engine.Compile(p, vm.CompileOptions{Mode: mode})
			if errors.Is(err, vm.ErrUnsupported) && engine.Name() == "jit" {
				t.Skipf("no JIT here: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range tests {
				r := vm.RegionOf("mem", mem, false)
				rc := &vm.RunContext{Regions: []vm.Region{r}}
				rc.Args[0] = tc.addr(r)
				got, err := vm.Run(exe, rc)
				if err != nil || got != tc.want {
					t.Errorf("%s %s, %s: %#x, %v; want %#x", engine.Name(), mode, tc.name, got, err, tc.want)
				}
				if rc.Executed != 4 {
					t.Errorf("%s %s, %s: %d instructions executed, want 4", engine.Name(), mode, tc.name, rc.Executed)
				}
			}
			exe.Close()
		}
		bad := &vm.Program{Instructions: prog, ProbeLoads: []int{2}}
		if _, err := engine.Compile(bad, vm.CompileOptions{}); err == nil {
			t.Errorf("%s: a probe load on an add compiled", engine.Name())
		}
	}
}
