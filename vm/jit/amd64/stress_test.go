package amd64_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// stressProgram loops over BPF-to-BPF calls two deep, calls a helper from
// the innermost one and keeps values on every frame's stack, so that runs
// exit to Go at every depth.
const stressProgram = `
	mov %r6, %r1
	mov %r7, 0
	mov %r8, 0
loop:
	mov %r1, %r7
	call local f
	add %r8, %r0
	add %r7, 1
	jne %r7, 40, loop
	stxdw [%r6], %r8
	mov %r0, %r8
	exit
f:
	stxdw [%r10-8], %r1
	mov %r6, %r1
	mul %r6, 3
	call local g
	ldxdw %r2, [%r10-8]
	add %r0, %r2
	add %r0, %r6
	exit
g:
	stxdw [%r10-16], %r1
	mov %r2, 7
	call 1
	ldxdw %r1, [%r10-16]
	mov %r3, 1
	call %r3
	exit
`

// grow is a helper that grows the goroutine's stack by a varying amount and
// allocates, so that the stack the code was entered from moves between
// exits.
func grow(rc *vm.RunContext, a, b, _, _, _ uint64) (uint64, error) {
	var sink []byte
	if a%5 == 0 {
		sink = make([]byte, 256+a%1024)
	}
	return deep(int(a%64)) + a*b + uint64(rc.Depth) + uint64(len(sink)), nil
}

//go:noinline
func deep(n int) uint64 {
	var pad [256]byte
	pad[n%256] = byte(n)
	if n == 0 {
		return uint64(pad[0])
	}
	return deep(n-1) + uint64(pad[n%256]&1)
}

// TestStress runs JIT programs with helper and local calls from many
// goroutines while others allocate, grow their stacks and force
// collections. Every run must give the interpreter's answer.
func TestStress(t *testing.T) {
	helpers := vm.Helpers{1: grow}
	want, err := compileWith(t, interp.New(), stressProgram, vm.Trusted, helpers).Run(newRC())
	if err != nil {
		t.Fatal(err)
	}
	dur := 2 * time.Second
	if testing.Short() {
		dur = 300 * time.Millisecond
	}
	deadline := time.Now().Add(dur)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var runs atomic.Int64
	for _, mode := range modes {
		exe := compile(t, stressProgram, mode, helpers)
		for range 2 * runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				rc := newRC()
				for !stop.Load() {
					got, err := exe.Run(rc)
					if err != nil || got != want {
						t.Errorf("%v: r0 %#x, %v; want %#x", mode, got, err, want)
						stop.Store(true)
						return
					}
					runs.Add(1)
				}
			})
		}
	}
	var garbage atomic.Int64
	for range 2 {
		wg.Go(func() {
			var keep [][]byte
			for i := 0; !stop.Load(); i++ {
				keep = append(keep, make([]byte, 64+i%4096))
				if len(keep) > 1000 {
					keep = nil
				}
				if i%100 == 0 {
					garbage.Add(int64(deep(i % 200)))
				}
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	})
	for time.Now().Before(deadline) && !stop.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d runs", runs.Load())
}

// newRC returns a context whose r1 points at 8 bytes of heap memory, kept
// alive by rc.Value.
func newRC() *vm.RunContext {
	mem := heapBytes(8)
	rc := &vm.RunContext{Value: mem}
	rc.Regions = []vm.Region{vm.RegionOf("out", mem, true)}
	rc.Args[0] = uint64(rc.Regions[0].Start)
	return rc
}

// TestPreemption checks that a long run does not hold up the collector: the
// code visits Go at least once per budget chunk, where the goroutine can be
// stopped. A collection started during the run must finish while the run is
// still going (were the run blocking it, the collection could only finish
// after the run); no timing threshold is involved.
func TestPreemption(t *testing.T) {
	exe := compile(t, "lddw %r1, 2000000000\nloop:\nsub %r1, 1\njne %r1, 0, loop\nexit", vm.Trusted, nil)
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		_, err := exe.Run(&vm.RunContext{})
		done <- err
	}()
	<-started
	time.Sleep(20 * time.Millisecond)
	runtime.GC()
	select {
	case err := <-done:
		t.Errorf("the collection finished only after the run ended (%v)", err)
	default:
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
