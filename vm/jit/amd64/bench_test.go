package amd64_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// arithLoop is a 1,000-iteration compute loop: xorshift, multiply-add and a
// data-dependent branch (the same program as vm/interp's benchmark).
const arithLoop = `
	mov %r0, 0
	lddw %r1, 0x9e3779b97f4a7c15
	mov %r2, 1000
loop:
	mov %r3, %r1
	lsh %r3, 13
	xor %r1, %r3
	mov %r3, %r1
	rsh %r3, 7
	xor %r1, %r3
	mov %r3, %r1
	lsh %r3, 17
	xor %r1, %r3
	mul %r0, 31
	add %r0, %r1
	jset %r1, 1, odd
	add %r0, 7
odd:
	sub %r2, 1
	jne %r2, 0, loop
	exit
`

// memLoop walks a 256-byte stack buffer 1,000 times: load, add, store (the
// same program as vm/interp's benchmark).
const memLoop = `
	mov %r0, 0
	mov %r2, 1000
	mov %r4, %r10
	add %r4, -256
	stdw [%r4], 0
loop:
	mov %r3, %r2
	and %r3, 31
	lsh %r3, 3
	mov %r5, %r4
	add %r5, %r3
	ldxdw %r1, [%r5]
	add %r1, %r2
	stxdw [%r5], %r1
	ldxw %r3, [%r4+4]
	add %r0, %r3
	stxw [%r4+4], %r0
	sub %r2, 1
	jne %r2, 0, loop
	exit
`

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

func BenchmarkArithLoop(b *testing.B)  { benchBoth(b, arithLoop) }
func BenchmarkMemoryLoop(b *testing.B) { benchBoth(b, memLoop) }
func BenchmarkCallLoop(b *testing.B)   { benchBoth(b, callLoop) }

// BenchmarkTrivial measures the cost of one run of the smallest program:
// entering and leaving the code (ns/op).
func BenchmarkTrivial(b *testing.B) { benchBoth(b, "mov %r0, 2\nexit") }

// BenchmarkCompile measures compiling and closing the arithmetic loop
// (mapping and unmapping its code page).
func BenchmarkCompile(b *testing.B) {
	prog, err := isa.Assemble(arithLoop)
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
