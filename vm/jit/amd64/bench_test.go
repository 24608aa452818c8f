package amd64_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// callLoop and benchHelpers are the shared call benchmark, under the names
// the listing tests use.
const callLoop = enginetest.CallLoop

var benchHelpers = enginetest.BenchHelpers

// benchBoth runs src in the JIT and, for comparison, the interpreter, in
// both memory modes: "jit/trusted", "interp/checked", ...
func benchBoth(b *testing.B, src string) {
	for _, engine := range []vm.Engine{amd64.New(), interp.New()} {
		b.Run(engine.Name(), func(b *testing.B) { enginetest.Benchmark(b, engine, src) })
	}
}

func BenchmarkArithLoop(b *testing.B)  { benchBoth(b, enginetest.ArithLoop) }
func BenchmarkMemoryLoop(b *testing.B) { benchBoth(b, enginetest.MemLoop) }
func BenchmarkCallLoop(b *testing.B)   { benchBoth(b, callLoop) }

// BenchmarkCallLoopZeroed is BenchmarkCallLoop for a program that reads
// unwritten stack: each of its 1,000 calls clears the frame it enters
// (vm.Program.ZeroCallFrames).
func BenchmarkCallLoopZeroed(b *testing.B) {
	for _, engine := range []vm.Engine{amd64.New(), interp.New()} {
		b.Run(engine.Name(), func(b *testing.B) { enginetest.BenchmarkZeroed(b, engine, callLoop) })
	}
}

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
