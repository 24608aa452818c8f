package amd64

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// TestChunks runs programs with tiny budget chunks, so that the code leaves
// for Go and resumes at nearly every taken jump, call and return, and checks
// results and counts against the interpreter.
func TestChunks(t *testing.T) {
	programs := []string{
		"mov %r0, 0\nmov %r1, 10\nloop:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, loop\nexit",
		`	mov %r6, 30
	mov %r7, 0
loop:
	mov %r1, %r6
	call local f
	add %r7, %r0
	sub %r6, 1
	jsgt %r6, 0, loop
	mov %r0, %r7
	exit
f:
	stxdw [%r10-8], %r1
	mov %r6, 5
	call local g
	ldxdw %r1, [%r10-8]
	add %r0, %r1
	add %r0, %r6
	exit
g:
	mov %r0, %r1
	mov %r6, 9
	jset %r0, 1, odd
	mul %r0, 3
	exit
odd:
	mov %r2, 2
	call 1
	exit`,
	}
	helpers := vm.Helpers{1: func(rc *vm.RunContext, a, b, _, _, _ uint64) (uint64, error) { return a*b + uint64(rc.Depth), nil }}
	defer func(c uint64) { chunk = c }(chunk)
	for _, src := range programs {
		prog, err := isa.Assemble(src)
		if err != nil {
			t.Fatal(err)
		}
		p := &vm.Program{Instructions: prog, Helpers: helpers}
		ref, err := interp.New().Compile(p, vm.CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rc := &vm.RunContext{}
		want, err := ref.Run(rc)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []vm.Mode{vm.Trusted, vm.Checked} {
			exe, err := New().Compile(p, vm.CompileOptions{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			for _, chunk = range []uint64{1, 2, 3, 5, 7, 11, 64} {
				got := &vm.RunContext{}
				if r0, err := exe.Run(got); err != nil || r0 != want || got.Executed != rc.Executed {
					t.Errorf("chunk %d (%v): r0 %d, executed %d, %v; want %d, %d", chunk, mode, r0, got.Executed, err, want, rc.Executed)
				}
			}
			exe.Close()
		}
	}
}
