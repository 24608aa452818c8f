package enginetest

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost/vm"
)

// TailCalls checks the tail-call loop of vm.Run: a helper that names a
// program ends the current one and vm.Run continues with it, r1 as given,
// the budget shared and the limit of vm.MaxTailCalls observed, in both
// memory modes. Each of others adds a chain that alternates between a
// program e compiled and one it compiled, as runs that mix engines do.
func TailCalls(t *testing.T, e vm.Engine, others ...vm.Engine) {
	var targets []vm.Executable
	tail := func(rc *vm.RunContext, ctx, _, _, _, _ uint64) (uint64, error) {
		if rc.TailCalls >= vm.MaxTailCalls {
			return ^uint64(0), nil // -1: fall through, as Linux
		}
		rc.TailCall, rc.Args[0] = targets[rc.TailCalls%len(targets)], ctx
		rc.TailCalls++
		return 0, nil
	}
	helpers := vm.Helpers{12: tail}
	// Each program adds 1 to a counter at [r1] and tail-calls; when the
	// tail call fails it returns the counter.
	const src = "ldxdw %r2, [%r1]\nadd %r2, 1\nstxdw [%r1], %r2\nmov %r6, %r1\ncall 12\nldxdw %r0, [%r6]\nexit"
	counter := heapBytes(8)
	for _, mode := range modes {
		first := compile(t, e, src, mode, helpers)
		chains := [][]vm.Executable{{first}}
		for _, o := range others {
			chains = append(chains, []vm.Executable{first, compile(t, o, src, mode, helpers)})
		}
		for _, chain := range chains {
			targets = chain
			clear(counter)
			rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("counter", counter, true)}, Value: counter}
			rc.Args[0] = uint64(rc.Regions[0].Start)
			got, err := vm.Run(first, rc)
			if err != nil || got != vm.MaxTailCalls+1 {
				t.Errorf("%v, %d programs: r0 = %d, %v; want %d (the first run and %d tail calls)", mode, len(chain), got, err, vm.MaxTailCalls+1, vm.MaxTailCalls)
			}
			// Every program runs 7 instructions but the last two of all
			// but the last, which the tail call skips.
			if want := uint64(7*(vm.MaxTailCalls+1) - 2*vm.MaxTailCalls); rc.Executed != want {
				t.Errorf("%v, %d programs: executed %d, want %d", mode, len(chain), rc.Executed, want)
			}
			// The budget covers the whole chain.
			clear(counter)
			rc.Budget = 50
			if _, err := vm.Run(first, rc); !errors.Is(err, vm.ErrBudgetExceeded) {
				t.Errorf("%v, %d programs: budget 50: %v", mode, len(chain), err)
			}
		}
	}
}
