package interp_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// arithLoop is a 1,000-iteration compute loop: xorshift, multiply-add and a
// data-dependent branch.
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

// memLoop walks a 256-byte stack buffer 1,000 times: load, add, store.
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
	b.Run("trusted", func(b *testing.B) { benchProgram(b, arithLoop, vm.Trusted) })
	b.Run("checked", func(b *testing.B) { benchProgram(b, arithLoop, vm.Checked) })
}

func BenchmarkMemoryLoop(b *testing.B) {
	b.Run("trusted", func(b *testing.B) { benchProgram(b, memLoop, vm.Trusted) })
	b.Run("checked", func(b *testing.B) { benchProgram(b, memLoop, vm.Checked) })
}
