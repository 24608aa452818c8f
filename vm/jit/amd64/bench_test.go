package amd64_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// callLoop makes 1,000 BPF-to-BPF calls and 1,000 helper calls.
const callLoop = `
	mov %r6, 1000
	mov %r7, 0
loop:
	mov %r1, %r6
	call local f
	add %r7, %r0
	sub %r6, 1
	jne %r6, 0, loop
	mov %r0, %r7
	exit
f:
	mov %r2, 3
	call 1
	exit
`

var benchHelpers = vm.Helpers{1: func(_ *vm.RunContext, a, b, _, _, _ uint64) (uint64, error) { return a + b, nil }}

func benchProgram(b *testing.B, engine vm.Engine, src string, mode vm.Mode) {
	prog, err := isa.Assemble(src)
	if err != nil {
		b.Fatal(err)
	}
	exe, err := engine.Compile(&vm.Program{Instructions: prog, Helpers: benchHelpers}, vm.CompileOptions{Mode: mode})
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

// benchBoth runs src in the JIT and, for comparison, the interpreter, in
// both memory modes.
func benchBoth(b *testing.B, src string) {
	for _, engine := range []vm.Engine{amd64.New(), interp.New()} {
		for _, mode := range modes {
			b.Run(engine.Name()+"/"+mode.String(), func(b *testing.B) { benchProgram(b, engine, src, mode) })
		}
	}
}

func BenchmarkArithLoop(b *testing.B)  { benchBoth(b, enginetest.ArithLoop) }
func BenchmarkMemoryLoop(b *testing.B) { benchBoth(b, enginetest.MemLoop) }
func BenchmarkCallLoop(b *testing.B)   { benchBoth(b, callLoop) }

// BenchmarkTrivial measures the cost of one run of the smallest program:
// entering and leaving the code (ns/op).
func BenchmarkTrivial(b *testing.B) { benchBoth(b, "mov %r0, 2\nexit") }

// BenchmarkCompile measures compiling and closing the arithmetic loop
// (mapping and unmapping its code page).
func BenchmarkCompile(b *testing.B) {
	prog, err := isa.Assemble(enginetest.ArithLoop)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		exe, err := amd64.New().Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{})
		if err != nil {
			b.Fatal(err)
		}
		exe.Close()
	}
}
