package interp_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

func benchProgram(b *testing.B, src string, mode vm.Mode) {
	prog, err := isa.Assemble(src)
	if err != nil {
		b.Fatal(err)
	}
	exe, err := interp.New().Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{Mode: mode})
	if err != nil {
		b.Fatal(err)
	}
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

func BenchmarkArithLoop(b *testing.B) {
	b.Run("trusted", func(b *testing.B) { benchProgram(b, enginetest.ArithLoop, vm.Trusted) })
	b.Run("checked", func(b *testing.B) { benchProgram(b, enginetest.ArithLoop, vm.Checked) })
}

func BenchmarkMemoryLoop(b *testing.B) {
	b.Run("trusted", func(b *testing.B) { benchProgram(b, enginetest.MemLoop, vm.Trusted) })
	b.Run("checked", func(b *testing.B) { benchProgram(b, enginetest.MemLoop, vm.Checked) })
}
