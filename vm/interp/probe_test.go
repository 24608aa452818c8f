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
// checked runs, zero- or sign-extended as its opcode says; the JIT refuses
// such programs rather than run them unchecked.
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
	for _, mode := range []vm.Mode{vm.Trusted, vm.Checked} {
		exe, err := interp.New().Compile(p, vm.CompileOptions{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range tests {
			r := vm.RegionOf("mem", mem, false)
			rc := &vm.RunContext{Regions: []vm.Region{r}}
			rc.Args[0] = tc.addr(r)
			got, err := exe.Run(rc)
			if err != nil || got != tc.want {
				t.Errorf("%s, %s: %#x, %v; want %#x", mode, tc.name, got, err, tc.want)
			}
		}
	}
	if _, err := amd64.New().Compile(p, vm.CompileOptions{}); !errors.Is(err, vm.ErrUnsupported) {
		t.Errorf("JIT: %v, want vm.ErrUnsupported", err)
	}
	bad := &vm.Program{Instructions: prog, ProbeLoads: []int{2}}
	if _, err := interp.New().Compile(bad, vm.CompileOptions{}); err == nil {
		t.Error("a probe load on an add compiled")
	}
}
