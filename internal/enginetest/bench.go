package enginetest

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// BenchHelpers are the helpers benchmark programs call: helper 1 returns
// r1 + r2.
var BenchHelpers = vm.Helpers{1: func(_ *vm.RunContext, a, b, _, _, _ uint64) (uint64, error) { return a + b, nil }}

// Benchmark measures src on e, one sub-benchmark per memory mode ("trusted",
// "checked"), and reports ns per executed instruction and instructions per
// run besides ns per run.
func Benchmark(b *testing.B, e vm.Engine, src string) {
	for _, mode := range modes {
		b.Run(mode.String(), func(b *testing.B) { benchmark(b, e, src, mode, false) })
	}
}

// BenchmarkZeroed is Benchmark for a program whose runs clear the entry
// frame and every frame a call enters (vm.Program.ZeroEntryFrame and
// ZeroCallFrames, the facts of programs that read unwritten stack), in
// trusted mode: checked runs clear them anyway.
func BenchmarkZeroed(b *testing.B, e vm.Engine, src string) {
	b.Run(vm.Trusted.String(), func(b *testing.B) { benchmark(b, e, src, vm.Trusted, true) })
}

func benchmark(b *testing.B, e vm.Engine, src string, mode vm.Mode, zero bool) {
	prog, err := isa.Assemble(src)
	if err != nil {
		b.Fatal(err)
	}
	p := &vm.Program{Instructions: prog, Helpers: BenchHelpers, ZeroEntryFrame: zero, ZeroCallFrames: zero}
	exe, err := e.Compile(p, vm.CompileOptions{Mode: mode})
	if err != nil {
		b.Fatal(err)
	}
	defer exe.Close()
	rc := &vm.RunContext{}
	if _, err := exe.Run(rc); err != nil {
		b.Fatal(err)
	}
	insns := rc.Executed
	b.ResetTimer()
	for b.Loop() {
		if _, err := exe.Run(rc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(uint64(b.N)*insns), "ns/insn")
	b.ReportMetric(float64(insns), "insns/run")
}
