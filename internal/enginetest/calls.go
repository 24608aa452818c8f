package enginetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/vm"
)

// frames passes a pointer to its stack to a function that clobbers r6-r9.
const frames = `
	mov %r6, 6
	mov %r7, 7
	mov %r8, 8
	mov %r9, 9
	stdw [%r10-8], 42
	mov %r1, %r10
	add %r1, -8
	call local f
	add %r0, %r6        # 6 + 7 + 8 + 9 + (42 + frame distance 512)
	add %r0, %r7
	add %r0, %r8
	add %r0, %r9
	exit
f:
	mov %r6, 100        # the callee may clobber r6-r9; the caller's are restored
	mov %r7, 100
	mov %r8, 100
	mov %r9, 100
	ldxdw %r0, [%r1]    # read the caller's stack through a pointer
	mov %r2, %r1
	sub %r2, %r10       # caller's slot is 512-8 bytes above our r10
	add %r2, 8
	add %r0, %r2
	exit
`

// fib computes fib(15) with calls and returns at every depth, many times.
const fib = `
	mov %r1, 15
	call local fib
	exit
fib:
	mov %r0, %r1
	jlt %r1, 2, done
	mov %r6, %r1
	sub %r1, 1
	call local fib2
	mov %r7, %r0
	mov %r1, %r6
	sub %r1, 2
	call local fib2
	add %r0, %r7
done:
	exit
fib2:                 # fib without recursion beyond depth 8: iterative
	mov %r0, 0
	mov %r2, 1
	jeq %r1, 0, out
loop:
	mov %r3, %r0
	add %r3, %r2
	mov %r0, %r2
	mov %r2, %r3
	sub %r1, 1
	jne %r1, 0, loop
out:
	exit
`

// chain nests n calls. Function i adds 1 to r0, keeps i in its own frame
// across the next call, then returns r0*2 + i.
func chain(n int) (src string, r0 uint64) {
	var b strings.Builder
	b.WriteString("mov %r0, 0\ncall local f1\nexit\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "f%d:\nadd %%r0, 1\nstdw [%%r10-8], %d\n", i, i)
		if i < n {
			fmt.Fprintf(&b, "call local f%d\n", i+1)
		}
		b.WriteString("ldxdw %r1, [%r10-8]\nlsh %r0, 1\nadd %r0, %r1\nexit\n")
	}
	r0 = uint64(n)
	for i := n; i >= 1; i-- {
		r0 = r0*2 + uint64(i)
	}
	return b.String(), r0
}

// LocalCalls checks BPF-to-BPF calls: r6-r9 survive, each call has its own
// 512 bytes, callers' stacks are reachable through pointers, and depth is
// bounded by vm.MaxCallDepth, in both memory modes.
func LocalCalls(t *testing.T, e vm.Engine) {
	for _, mode := range modes {
		got, err := compile(t, e, frames, mode, nil).Run(&vm.RunContext{})
		if want := uint64(6 + 7 + 8 + 9 + 42 + 512); err != nil || got != want {
			t.Errorf("frames (%v): r0 = %d, %v; want %d", mode, got, err, want)
		}

		// A chain of exactly MaxCallDepth nested calls works; one more fails.
		src, want := chain(vm.MaxCallDepth)
		got, err = compile(t, e, src, mode, nil).Run(&vm.RunContext{})
		if err != nil || got != want {
			t.Errorf("depth %d (%v): r0 = %#x, %v; want %#x", vm.MaxCallDepth, mode, got, err, want)
		}
		src, _ = chain(vm.MaxCallDepth + 1)
		_, err = compile(t, e, src, mode, nil).Run(&vm.RunContext{})
		if !errors.Is(err, vm.ErrCallDepth) {
			t.Errorf("depth %d (%v): err = %v, want ErrCallDepth", vm.MaxCallDepth+1, mode, err)
		}

		// Unbounded recursion stops with an error, never a crash.
		_, err = compile(t, e, "call local f\nexit\nf:\ncall local f\nexit", mode, nil).Run(&vm.RunContext{})
		if !errors.Is(err, vm.ErrCallDepth) {
			t.Errorf("recursion (%v): err = %v, want ErrCallDepth", mode, err)
		}

		got, err = compile(t, e, fib, mode, nil).Run(&vm.RunContext{})
		if err != nil || got != 610 {
			t.Errorf("fib (%v): r0 = %d, %v; want 610", mode, got, err)
		}
	}
}

// CheckedFrames checks that checked runs clear a frame when a call enters
// it, so that reading stack never written gives 0 on every run, while
// trusted runs leave the frame as the last call left it.
func CheckedFrames(t *testing.T, e vm.Engine) {
	const src = `
	call local f
	mov %r6, %r0
	call local f
	lsh %r6, 8
	or %r0, %r6
	exit
f:
	ldxdw %r0, [%r10-8]
	stdw [%r10-8], 7
	exit`
	for _, mode := range modes {
		want := uint64(0)
		if mode == vm.Trusted {
			want = 7
		}
		got, err := compile(t, e, src, mode, nil).Run(&vm.RunContext{})
		if err != nil || got != want {
			t.Errorf("%v: r0 = %#x, %v; want %#x", mode, got, err, want)
		}
	}
}
