package enginetest

import (
	"sync"
	"testing"

	"github.com/bpfhost/bpfhost/vm"
)

// ConcurrentRuns runs one executable from many goroutines, each with its
// own context, with atomics on a shared region, in both memory modes. Each
// run must see its own stack, and no increment may be lost.
func ConcurrentRuns(t *testing.T, e vm.Engine) {
	shared := heapBytes(8)
	for _, mode := range modes {
		clear(shared)
		exe := compile(t, e, "mov %r2, 1\nlock add [%r1], %r2\nmov %r0, %r10\nexit", mode, nil)
		var wg sync.WaitGroup
		const goroutines, runs = 8, 500
		for range goroutines {
			wg.Go(func() {
				rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("shared", shared, true)}, Value: shared}
				rc.Args[0] = uint64(rc.Regions[0].Start)
				for range runs {
					r0, err := exe.Run(rc)
					if err != nil || r0 != rc.Stack().Top() {
						t.Errorf("%v: r0 %#x, %v; want r10 %#x", mode, r0, err, rc.Stack().Top())
						return
					}
				}
			})
		}
		wg.Wait()
		if got := uint64(shared[0]) | uint64(shared[1])<<8; got != goroutines*runs {
			t.Errorf("%v: counter = %d, want %d", mode, got, goroutines*runs)
		}
	}
}
