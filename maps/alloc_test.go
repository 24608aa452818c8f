package maps

import (
	"testing"
	"unsafe"
)

// TestProgramSideNoAllocs checks that what helpers call per packet does
// not allocate.
func TestProgramSideNoAllocs(t *testing.T) {
	arr := mustNew(t, Spec{Name: "a", Type: PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 4}, 2).(*ArrayMap)
	hash := mustNew(t, Spec{Name: "h", Type: LRUPerCPUHash, KeySize: 8, ValueSize: 8, MaxEntries: 4}, 2).(*HashMap)
	lpm := newLPMv4(t, 4)
	q := mustNew(t, Spec{Name: "q", Type: Stack, ValueSize: 8, MaxEntries: 4}, 2).(*QueueStackMap)
	bloom := mustNew(t, Spec{Name: "b", Type: BloomFilter, ValueSize: 8, MaxEntries: 4}, 2).(*BloomFilterMap)
	ring := newRing(t, 1<<16)
	perf := mustNew(t, Spec{Name: "p", Type: PerfEventArray, KeySize: 4, ValueSize: 4}, 2).(*PerfEventArrayMap)
	pr, err := perf.NewReader(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	progs := mustNew(t, Spec{Name: "j", Type: ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 2).(*HandleArrayMap)
	k4, k8, v8, out := u32(1), u64(1), u64(2), make([]byte, 8)
	lk := lpmKey(t, "10.0.0.0/8")
	visit := func(k, v unsafe.Pointer) bool { return true }
	for name, fn := range map[string]func(){
		"array": func() {
			arr.UpdateElem(k4, v8, 0, 1)
			arr.LookupPtr(k4, 1)
			arr.LookupPercpuElem(k4, 0)
			arr.ForEach(0, visit)
		},
		"hash": func() {
			hash.UpdateElem(k8, v8, 0, 1)
			hash.LookupPtr(k8, 1)
			hash.ForEach(1, visit)
			hash.DeleteElem(k8)
		},
		"lpm":   func() { lpm.UpdateElem(lk, u32v, 0, 0); lpm.LookupPtr(lk, 0); lpm.DeleteElem(lk) },
		"stack": func() { q.PushElem(v8, 0); q.PeekElem(out); q.PopElem(out) },
		"bloom": func() { bloom.PushElem(v8, 0); bloom.PeekElem(v8) },
		"ring": func() {
			ring.Output(v8, RingBufNoWakeup)
			ring.Discard(ring.Reserve(16, 0), 0)
			ring.Query(0)
			drain(ring)
		},
		"perf": func() { perf.Output(1, PerfCurrentCPU, v8, k4); drainPerf(pr) },
		"tail": func() { progs.HandleAt(1) },
	} {
		fn() // warm up
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocations per run", name, n)
		}
	}
}

var u32v = u32(7)

// drain consumes a ring without allocating (no reader, no timer).
func drain(r *RingBufMap) {
	var buf [64]byte
	for {
		if _, ok := r.next(buf[:0]); !ok {
			return
		}
	}
}

func drainPerf(r *PerfReader) {
	for _, b := range r.bufs {
		b.mu.Lock()
		b.tail, b.lost = b.head, 0
		b.mu.Unlock()
	}
}
