package enginetest_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// skewed is the interpreter with a fault planted in its runs or compiles.
type skewed struct {
	refuse bool                           // Compile fails
	after  func(rc *vm.RunContext) uint64 // changes state after a run; its result is added to r0
}

func (s skewed) Name() string { return "skewed" }

func (s skewed) Compile(p *vm.Program, opts vm.CompileOptions) (vm.Executable, error) {
	if s.refuse {
		return nil, fmt.Errorf("%w: refused", vm.ErrUnsupported)
	}
	exe, err := interp.New().Compile(p, opts)
	return skewedExe{exe, s.after}, err
}

type skewedExe struct {
	vm.Executable
	after func(rc *vm.RunContext) uint64
}

func (x skewedExe) Run(rc *vm.RunContext) (uint64, error) {
	r0, err := x.Executable.Run(rc)
	return r0 + x.after(rc), err
}

// TestAgree checks that Agree runs both engines from the same state and
// reports every kind of difference.
func TestAgree(t *testing.T) {
	prog, err := isa.Assemble("ldxdw %r2, [%r1]\nadd %r2, 1\nstxdw [%r1], %r2\nstdw [%r10-8], 3\nmov %r0, %r2\nexit")
	if err != nil {
		t.Fatal(err)
	}
	mem := make([]byte, 8)
	run := func(e vm.Engine) (uint64, error) {
		clear(mem)
		exe, err := enginetest.Agree(interp.New(), e).Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{Mode: vm.Checked})
		if err != nil {
			return 0, err
		}
		defer exe.Close()
		rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("mem", mem, true)}, Value: mem}
		rc.Args[0] = uint64(rc.Regions[0].Start)
		return exe.Run(rc)
	}
	// Agreeing engines: the region is restored between the runs, so the
	// counter goes up once.
	if r0, err := run(skewed{after: func(*vm.RunContext) uint64 { return 0 }}); err != nil || r0 != 1 || mem[0] != 1 {
		t.Errorf("agreeing: r0 %d, counter %d, %v; want 1, 1", r0, mem[0], err)
	}
	tests := []struct {
		name string
		e    skewed
	}{
		{"refuses", skewed{refuse: true}},
		{"r0", skewed{after: func(*vm.RunContext) uint64 { return 1 }}},
		{"executed", skewed{after: func(rc *vm.RunContext) uint64 { rc.Executed++; return 0 }}},
		{"depth", skewed{after: func(rc *vm.RunContext) uint64 { rc.Depth++; return 0 }}},
		{"stack", skewed{after: func(rc *vm.RunContext) uint64 { rc.Stack().Bytes()[0]++; return 0 }}},
		{"memory", skewed{after: func(*vm.RunContext) uint64 { mem[7]++; return 0 }}},
		{"tail call", skewed{after: func(rc *vm.RunContext) uint64 { rc.TailCalls++; return 0 }}},
	}
	for _, tt := range tests {
		if _, err := run(tt.e); !errors.Is(err, enginetest.ErrDisagree) {
			t.Errorf("%s: err = %v, want ErrDisagree", tt.name, err)
		}
	}
}
