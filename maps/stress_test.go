package maps

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// stressIters scales the concurrent tests; -short runs them briefly.
func stressIters(t *testing.T, n int) int {
	if testing.Short() {
		return n / 10
	}
	return n
}

// TestStressArrayCounters has many slots increment shared counters through
// program-side pointers while user space reads them.
func TestStressArrayCounters(t *testing.T) {
	const slots = 4
	iters := stressIters(t, 20000)
	for _, typ := range []Type{Array, PerCPUArray} {
		t.Run(typ.String(), func(t *testing.T) {
			m := mustNew(t, Spec{Name: "counts", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 8}, slots).(*ArrayMap)
			var wg sync.WaitGroup
			stop := make(chan struct{})
			go func() { // user space polling
				out := make([]byte, m.spec.userValueSize(slots))
				next := make([]byte, 4)
				for {
					select {
					case <-stop:
						return
					default:
					}
					for err := m.NextKey(nil, next); err == nil; err = m.NextKey(next, next) {
						m.Lookup(next, out)
					}
				}
			}()
			for s := 0; s < slots; s++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < iters; i++ {
						p := m.LookupPtr(u32(uint32(i%8)), s)
						atomic.AddUint64((*uint64)(p), 1)
					}
				}()
			}
			wg.Wait()
			close(stop)
			var total uint64
			out := make([]byte, m.spec.userValueSize(slots))
			for k := uint32(0); k < 8; k++ {
				m.Lookup(u32(k), out)
				for off := 0; off < len(out); off += 8 {
					total += binary.NativeEndian.Uint64(out[off:])
				}
			}
			if total != uint64(slots*iters) {
				t.Errorf("total %d, want %d", total, slots*iters)
			}
		})
	}
}

// TestStressHash mixes program-side inserts, lookups with atomic
// increments and deletes on many slots with user-space iteration, lookups
// and ForEach. Keys 0..15 are never deleted, so their counts must add up.
func TestStressHash(t *testing.T) {
	const slots = 4
	iters := stressIters(t, 20000)
	for _, typ := range []Type{Hash, PerCPUHash, LRUHash, LRUPerCPUHash} {
		t.Run(typ.String(), func(t *testing.T) {
			entries := uint32(256)
			if typ == LRUHash || typ == LRUPerCPUHash {
				entries = 4096 // large enough that the stable keys are never evicted
			}
			m := mustNew(t, Spec{Name: "flows", Type: typ, KeySize: 8, ValueSize: 8, MaxEntries: entries}, slots).(*HashMap)
			for k := uint64(0); k < 16; k++ {
				if err := m.Update(u64(k), make([]byte, m.spec.userValueSize(slots)), UpdateNoExist); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			var userOps atomic.Int64
			// The workers start once user space has made a round, so that
			// every run mixes it in however late its goroutine is scheduled
			// on a loaded machine.
			userStarted := make(chan struct{})
			wg.Add(1)
			go func() { // user space
				defer wg.Done()
				out := make([]byte, m.spec.userValueSize(slots))
				next := make([]byte, 8)
				for {
					select {
					case <-stop:
						return
					default:
					}
					n := 0
					for err := m.NextKey(nil, next); err == nil && n < 1000; err = m.NextKey(next, next) {
						m.Lookup(next, out)
						n++
					}
					m.Update(u64(1000), out, UpdateAny)
					m.Delete(u64(1000))
					if userOps.Add(1) == 1 {
						close(userStarted)
					}
				}
			}()
			<-userStarted
			var worker sync.WaitGroup
			for s := 0; s < slots; s++ {
				worker.Add(1)
				go func() {
					defer worker.Done()
					key := make([]byte, 8)
					val := make([]byte, 8)
					for i := 0; i < iters; i++ {
						stable := uint64(i % 16)
						binary.NativeEndian.PutUint64(key, stable)
						p := m.LookupPtr(key, s)
						if p == nil {
							t.Errorf("stable key %d missing", stable)
							return
						}
						atomic.AddUint64((*uint64)(p), 1)
						binary.NativeEndian.PutUint64(key, 100+uint64(s*1000+i%200))
						switch i % 4 {
						case 0, 1:
							m.UpdateElem(key, val, uint64(UpdateAny), s)
						case 2:
							if q := m.LookupPtr(key, s); q != nil {
								atomic.AddUint64((*uint64)(q), 1)
							}
						case 3:
							m.DeleteElem(key)
						}
						if i%1000 == 0 {
							m.ForEach(s, func(k, v unsafe.Pointer) bool {
								atomic.LoadUint64((*uint64)(v))
								return true
							})
						}
					}
				}()
			}
			worker.Wait()
			close(stop)
			wg.Wait()
			var total uint64
			out := make([]byte, m.spec.userValueSize(slots))
			for k := uint64(0); k < 16; k++ {
				if err := m.Lookup(u64(k), out); err != nil {
					t.Fatal(err)
				}
				for off := 0; off < len(out); off += 8 {
					total += binary.NativeEndian.Uint64(out[off:])
				}
			}
			if total != uint64(slots*iters) {
				t.Errorf("stable counters total %d, want %d", total, slots*iters)
			}
			if userOps.Load() == 0 {
				t.Error("user space made no progress")
			}
		})
	}
}

// TestStressLRUFull hammers a small LRU map so inserts evict constantly.
func TestStressLRUFull(t *testing.T) {
	const slots = 4
	iters := stressIters(t, 20000)
	m := mustNew(t, Spec{Name: "lru", Type: LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 32}, slots).(*HashMap)
	var wg sync.WaitGroup
	for s := 0; s < slots; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := make([]byte, 4)
			for i := 0; i < iters; i++ {
				binary.NativeEndian.PutUint32(key, uint32((i*7+s*13)%100))
				if r := m.UpdateElem(key, u64(uint64(i)), 0, s); r != 0 {
					t.Errorf("UpdateElem = %d", r)
					return
				}
				if p := m.LookupPtr(key, s); p != nil {
					atomic.LoadUint64((*uint64)(p))
				}
				if i%5 == 0 {
					m.DeleteElem(key)
				}
			}
		}()
	}
	wg.Wait()
	// Every element is accounted for: free, or listed and in its chain.
	keys := len(keysOf(t, m))
	m.t.mu.Lock()
	free := len(m.t.free)
	m.t.mu.Unlock()
	if keys+free != 32 {
		t.Errorf("%d keys + %d free elements, want 32", keys, free)
	}
}

func TestStressLPMAndQueue(t *testing.T) {
	iters := stressIters(t, 5000)
	lpm := newLPMv4(t, 512)
	q := mustNew(t, Spec{Name: "q", Type: Queue, ValueSize: 8, MaxEntries: 64}, 4).(*QueueStackMap)
	var wg sync.WaitGroup
	var pushed, popped atomic.Int64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := make([]byte, 8)
			for i := 0; i < iters; i++ {
				binary.NativeEndian.PutUint32(key, uint32(16+i%17))
				key[4], key[5], key[6], key[7] = 10, byte(g), byte(i), 0
				switch i % 3 {
				case 0:
					lpm.UpdateElem(key, u32(uint32(i)), 0, g)
				case 1:
					lpm.DeleteElem(key)
				default:
					binary.NativeEndian.PutUint32(key, 32)
					if p := lpm.LookupPtr(key, g); p != nil {
						atomic.LoadUint32((*uint32)(p))
					}
				}
				if q.PushElem(u64(uint64(i)), 0) == 0 {
					pushed.Add(1)
				}
				if q.PopElem(make([]byte, 8)) == 0 {
					popped.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if int64(q.Len()) != pushed.Load()-popped.Load() {
		t.Errorf("queue holds %d, pushed %d popped %d", q.Len(), pushed.Load(), popped.Load())
	}
	keysOf(t, lpm)
}
