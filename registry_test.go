package bpfhost

import (
	"runtime"
	"testing"
)

// registerCost returns the bytes allocated to register and unregister
// rounds maps while live other maps are registered.
func registerCost(live, rounds int) uint64 {
	held := make([]*Map, live)
	for i := range held {
		held[i] = &Map{name: "held"}
		registerMap(held[i])
	}
	defer func() {
		for _, m := range held {
			unregisterMap(m)
		}
	}()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < rounds; i++ {
		m := &Map{name: "probe"}
		registerMap(m)
		if h, ok := lookupHandle(m.handle.ptr()); !ok || h != m.handle {
			panic("registered handle not found")
		}
		unregisterMap(m)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestRegisterMapCostIndependentOfCount checks F9 by work, not time: the
// memory one registration allocates must not grow with the number of maps
// that exist (a copied snapshot allocated O(N) bytes per registration).
func TestRegisterMapCostIndependentOfCount(t *testing.T) {
	const rounds = 200
	small := registerCost(100, rounds)
	large := registerCost(10000, rounds)
	t.Logf("bytes for %d registrations: %d with 100 maps, %d with 10000", rounds, small, large)
	if large > 4*small+64<<10 {
		t.Fatalf("registering with 10000 maps allocated %d bytes, with 100 maps %d: cost grows with the number of maps", large, small)
	}
	for _, p := range []uint64{1, 0x1234} {
		if _, ok := lookupHandle(p); ok {
			t.Fatalf("lookupHandle(%#x) found a handle", p)
		}
	}
}

func BenchmarkRegisterMap(b *testing.B) {
	for _, live := range []int{0, 20000} {
		b.Run(map[int]string{0: "empty", 20000: "20000maps"}[live], func(b *testing.B) {
			held := make([]*Map, live)
			for i := range held {
				held[i] = &Map{}
				registerMap(held[i])
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m := &Map{}
				registerMap(m)
				unregisterMap(m)
			}
			b.StopTimer()
			for _, m := range held {
				unregisterMap(m)
			}
		})
	}
}
