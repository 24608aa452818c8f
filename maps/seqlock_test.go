package maps

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// TestFindFastMatchesFind runs random updates and deletes (reusing
// elements for other keys) on hash maps of several key sizes and checks
// after each that the lock-free reader finds every key where the locked
// one does: with no writer about it never falls back.
func TestFindFastMatchesFind(t *testing.T) {
	for _, ks := range []uint32{1, 3, 4, 7, 8, 12, 16, 20, 64, 100} {
		m := mustNew(t, Spec{Name: "h", Type: Hash, KeySize: ks, ValueSize: 8, MaxEntries: 16}, 1).(*HashMap)
		rng := rand.New(rand.NewPCG(uint64(ks), 1))
		keys := make([][]byte, 40)
		for i := range keys {
			keys[i] = make([]byte, ks)
			for j := range keys[i] {
				keys[i][j] = byte(rng.Uint32())
			}
		}
		for op := range 400 {
			k := keys[rng.IntN(len(keys))]
			if rng.IntN(3) == 0 {
				m.DeleteElem(k)
			} else {
				m.UpdateElem(k, u64(uint64(op)), 0, 0)
			}
			for _, k := range keys {
				h := m.t.hash(k)
				b := h & m.t.mask
				m.t.lock(b).RLock()
				want := m.t.find(b, h, k)
				m.t.lock(b).RUnlock()
				if got, ok := m.t.findFast(b, h, k); !ok || got != want {
					t.Fatalf("key size %d, op %d: key %x: findFast %d, %v; find %d", ks, op, k, got, ok, want)
				}
			}
		}
		for i := range m.t.stripes {
			if seq := m.t.stripes[i].seq.Load(); seq%2 != 0 {
				t.Errorf("key size %d: stripe %d has odd sequence %d at rest", ks, i, seq)
			}
		}
	}
}

// TestFindFastRetries checks that the lock-free reader gives up while a
// writer holds a stripe's sequence odd, or after it moved, and that
// LookupPtr then still finds the key under the lock.
func TestFindFastRetries(t *testing.T) {
	m := mustNew(t, Spec{Name: "h", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 8}, 1).(*HashMap)
	key := u32(7)
	wantRet(t, "update", m.UpdateElem(key, u64(1), 0, 0), 0)
	h := m.t.hash(key)
	b := h & m.t.mask
	s := m.t.lock(b)
	s.seq.Add(1) // a writer is busy
	if _, ok := m.t.findFast(b, h, key); ok {
		t.Errorf("findFast succeeded with an odd sequence")
	}
	if m.LookupPtr(key, 0) == nil {
		t.Errorf("LookupPtr missed the key while the sequence is odd")
	}
	s.seq.Add(1)
	if e, ok := m.t.findFast(b, h, key); !ok || e < 0 {
		t.Errorf("findFast: %d, %v", e, ok)
	}
	// A cyclic chain (which a relinked element can make look so) ends the
	// walk after n steps.
	e := m.t.heads[b]
	m.t.rec(e).next = e
	if _, ok := m.t.findFast(b, m.t.hash(u32(8)), u32(8)); ok {
		t.Errorf("findFast walked a cyclic chain to an end")
	}
	m.t.rec(e).next = -1
}

// inlineLookup looks key up by following HashInline step by step, as
// generated code does; ok is false where it would call LookupPtr.
func inlineLookup(d HashInline, key []byte, slot int) (p unsafe.Pointer, ok bool) {
	u32At := func(addr uintptr) uint32 { return atomic.LoadUint32((*uint32)(ptrAt(addr))) }
	if d.PerCPU && uint(slot) >= uint(d.Slots) {
		return nil, true
	}
	if !d.PerCPU {
		slot = 0
	}
	mix := func(a, b uint64) uint64 {
		hi, lo := bits.Mul64(a, b)
		return hi ^ lo
	}
	hv := d.Seed ^ uint64(len(key))*d.Mult[0]
	k := key
	for ; len(k) >= 8; k = k[8:] {
		hv = mix(hv^binary.LittleEndian.Uint64(k), d.Mult[1])
	}
	if len(k) > 0 {
		var w [8]byte
		copy(w[:], k)
		hv = mix(hv^binary.LittleEndian.Uint64(w[:]), d.Mult[2])
	}
	h := uint32(mix(hv, d.Mult[0]^d.Mult[2]))
	b := h & d.Mask
	seqAddr := d.Stripes + uintptr(b&d.StripeMask)*uintptr(d.StripeSize) + uintptr(d.SeqOffset)
	seq := u32At(seqAddr)
	if seq&1 != 0 {
		return nil, false
	}
	padded := make([]byte, (len(key)+7)&^7)
	copy(padded, key)
	e := int32(u32At(d.Heads + 4*uintptr(b)))
	for steps := d.N; e != -1; steps-- {
		if uint32(e) >= d.N || steps == 0 {
			return nil, false
		}
		rec := d.Elems + uintptr(e)*uintptr(d.Stride)
		match := u32At(rec) == h
		for i := 0; match && i < len(padded); i += 4 {
			match = u32At(rec+8+uintptr(i)) == binary.NativeEndian.Uint32(padded[i:])
		}
		if match {
			break
		}
		e = int32(u32At(rec + 4))
	}
	if u32At(seqAddr) != seq {
		return nil, false
	}
	if e == -1 {
		return nil, true
	}
	if d.LRU {
		ref := (*uint32)(ptrAt(d.Refs + 4*uintptr(e)))
		if atomic.LoadUint32(ref) == 0 {
			atomic.StoreUint32(ref, 1)
		}
	}
	return ptrAt(d.Values + uintptr(slot)*uintptr(d.SlotStride) + uintptr(e)*uintptr(d.ValueStride)), true
}

// ptrAt turns an address of the description back into a pointer, as
// generated code uses it (the map keeps the memory alive).
func ptrAt(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

// TestHashInline follows the description of every hash map type the way
// generated code does and checks that it finds what LookupPtr finds, for
// present and absent keys and every slot.
func TestHashInline(t *testing.T) {
	for _, typ := range []Type{Hash, PerCPUHash, LRUHash, LRUPerCPUHash} {
		for _, ks := range []uint32{1, 4, 6, 8, 13, 64} {
			m := mustNew(t, Spec{Name: "h", Type: typ, KeySize: ks, ValueSize: 12, MaxEntries: 20}, 3).(*HashMap)
			key := func(i int) []byte {
				k := make([]byte, ks)
				for j := range k {
					k[j] = byte(i*31 + j)
				}
				return k
			}
			for i := range 30 { // LRU maps evict, the others fill up
				m.UpdateElem(key(i), make([]byte, 12), 0, 0)
			}
			d := m.Inline()
			for i := range 40 {
				for slot := -1; slot <= 3; slot++ {
					got, ok := inlineLookup(d, key(i), slot)
					if want := m.LookupPtr(key(i), slot); !ok || got != want {
						t.Errorf("%v key size %d: key %d slot %d: %p (%v), LookupPtr %p", typ, ks, i, slot, got, ok, want)
					}
				}
			}
		}
	}
}

// TestSeqlockConcurrent runs lock-free lookups (LookupPtr and the
// HashInline walk) on several goroutines while another deletes and
// inserts keys of the same two buckets, so that walks race with links,
// unlinks and reuse of elements for other keys (run it with -race).
// Values hold their key's number and are written before the element is
// linked: stable keys (never deleted) are always found with their value,
// absent keys never; other keys found hold their own number unless an
// element was freed during the lookup.
func TestSeqlockConcurrent(t *testing.T) {
	dur := 500 * time.Millisecond
	if testing.Short() {
		dur = 100 * time.Millisecond
	}
	const stable, churn, absent = 6, 30, 6
	for _, ks := range []uint32{4, 12} {
		m := mustNew(t, Spec{Name: "h", Type: Hash, KeySize: ks, ValueSize: 8, MaxEntries: 24}, 1).(*HashMap)
		var keys [][]byte
		for id := uint32(0); len(keys) < stable+churn+absent; id++ {
			k := make([]byte, ks)
			binary.NativeEndian.PutUint32(k, id)
			if m.t.hash(k)&m.t.mask <= 1 {
				keys = append(keys, k)
			}
		}
		for i := range stable {
			wantRet(t, "update", m.UpdateElem(keys[i], u64(uint64(i)), 0, 0), 0)
		}
		var deletes atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(ks), 2))
			for {
				select {
				case <-stop:
					return
				default:
				}
				for range 3 {
					deletes.Add(1)
					m.DeleteElem(keys[stable+rng.IntN(churn)])
				}
				for range 4 {
					i := stable + rng.IntN(churn)
					m.UpdateElem(keys[i], u64(uint64(i)), 0, 0)
				}
			}
		})
		d := m.Inline()
		var errs atomic.Int64
		for g := range 3 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 9))
				for {
					select {
					case <-stop:
						return
					default:
					}
					i := rng.IntN(len(keys))
					before := deletes.Load()
					p := m.LookupPtr(keys[i], 0)
					if g == 0 { // the walk generated code makes
						if q, ok := inlineLookup(d, keys[i], 0); ok {
							p = q
						}
					}
					var v uint64
					if p != nil {
						v = atomic.LoadUint64((*uint64)(p))
					}
					quiet := deletes.Load() == before
					var err error
					switch {
					case i < stable && (p == nil || v != uint64(i)):
						err = fmt.Errorf("stable key: %p, value %d", p, v)
					case i >= stable+churn && p != nil:
						err = fmt.Errorf("absent key found")
					case p != nil && quiet && v != uint64(i):
						err = fmt.Errorf("value %d", v)
					}
					if err != nil && errs.Add(1) < 5 {
						t.Errorf("key size %d, key %d: %v", ks, i, err)
					}
				}
			})
		}
		time.Sleep(dur)
		close(stop)
		wg.Wait()
	}
}
