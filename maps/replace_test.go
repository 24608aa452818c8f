package maps

import (
	"bytes"
	"testing"
	"time"
	"unsafe"
)

// readValue copies n bytes of the value at p, word-atomically.
func readValue(p unsafe.Pointer, n int) []byte {
	out := make([]byte, n)
	loadBytes(out, p)
	return out
}

// TestUpdateSwapsElement: an update of a key in a hash, LRU hash or LPM
// trie never writes into the value a program was handed: the key gets a
// fresh element (Linux's htab and trie do the same), so the old pointer
// still reads the whole old value and a new lookup the whole new one.
// Per-CPU maps keep Linux's in-place update for a program's slot;
// BPF_F_LOCK updates are in place too.
func TestUpdateSwapsElement(t *testing.T) {
	const vs = 64
	specs := []Spec{
		{Name: "hash", Type: Hash, KeySize: 4, ValueSize: vs, MaxEntries: 4},
		{Name: "lru", Type: LRUHash, KeySize: 4, ValueSize: vs, MaxEntries: 4},
		{Name: "lpm", Type: LPMTrie, KeySize: 8, ValueSize: vs, MaxEntries: 4, Flags: FlagNoPrealloc},
	}
	for _, spec := range specs {
		t.Run(spec.Name, func(t *testing.T) {
			m := mustNew(t, spec, 2).(ElemMap)
			key := testKey(spec, 1)
			a, b := bytes.Repeat([]byte{0xaa}, vs), bytes.Repeat([]byte{0xbb}, vs)
			if r := m.UpdateElem(key, a, 0, 0); r != 0 {
				t.Fatal(r)
			}
			old := m.LookupPtr(key, 0)
			if r := m.UpdateElem(key, b, uint64(UpdateExist), 0); r != 0 {
				t.Fatal(r)
			}
			if got := readValue(old, vs); !bytes.Equal(got, a) {
				t.Fatalf("the old value pointer reads %x after the update, want the old value", got)
			}
			cur := m.LookupPtr(key, 0)
			if cur == old {
				t.Fatal("the update wrote the value in place")
			}
			if got := readValue(cur, vs); !bytes.Equal(got, b) {
				t.Fatalf("lookup after the update: %x", got)
			}
			// User space's Update swaps too.
			if err := m.Update(key, a, UpdateAny); err != nil {
				t.Fatal(err)
			}
			if got := readValue(cur, vs); !bytes.Equal(got, b) {
				t.Fatalf("Update wrote into the value a program holds: %x", got)
			}
			if n := len(dumpMap(t, m, 2)); n != 1 {
				t.Fatalf("%d entries after updates of one key", n)
			}
		})
	}
	t.Run("percpu", func(t *testing.T) {
		spec := Spec{Name: "percpu", Type: PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 4}
		m := mustNew(t, spec, 2).(ElemMap)
		key := testKey(spec, 1)
		m.UpdateElem(key, u64(1), 0, 0)
		p := m.LookupPtr(key, 0)
		m.UpdateElem(key, u64(2), 0, 0)
		if m.LookupPtr(key, 0) != p || *(*uint64)(p) != 2 {
			t.Fatal("a program's update of its slot is not in place")
		}
	})
	t.Run("lock", func(t *testing.T) {
		spec := Spec{Name: "lock", Type: Hash, KeySize: 4, ValueSize: 16, MaxEntries: 4, HasSpinLock: true, SpinLockOffset: 0}
		m := mustNew(t, spec, 1)
		key := u32(1)
		if err := m.Update(key, make([]byte, 16), UpdateAny); err != nil {
			t.Fatal(err)
		}
		p := m.(ElemMap).LookupPtr(key, 0)
		v := bytes.Repeat([]byte{7}, 16)
		if err := m.Update(key, v, UpdateLock); err != nil {
			t.Fatal(err)
		}
		if m.(ElemMap).LookupPtr(key, 0) != p || *(*byte)(unsafe.Add(p, 8)) != 7 {
			t.Fatal("a BPF_F_LOCK update is not in place")
		}
	})
}

// TestUpdateFullMap: an update of a key that is in a full map succeeds,
// as in Linux (whose hash map keeps a spare element per CPU for it, and
// whose LRU map evicts): a hash map and a trie write the value in place,
// an LRU map evicts another key for the fresh element.
func TestUpdateFullMap(t *testing.T) {
	specs := []Spec{
		{Name: "hash", Type: Hash, KeySize: 4, ValueSize: 16, MaxEntries: 3},
		{Name: "lru", Type: LRUHash, KeySize: 4, ValueSize: 16, MaxEntries: 3},
		{Name: "lpm", Type: LPMTrie, KeySize: 8, ValueSize: 16, MaxEntries: 3, Flags: FlagNoPrealloc},
	}
	for _, spec := range specs {
		t.Run(spec.Name, func(t *testing.T) {
			m := mustNew(t, spec, 1).(ElemMap)
			for i := range 3 {
				if r := m.UpdateElem(testKey(spec, i), bytes.Repeat([]byte{byte(i)}, 16), 0, 0); r != 0 {
					t.Fatal(r)
				}
			}
			v := bytes.Repeat([]byte{9}, 16)
			for range 3 {
				if r := m.UpdateElem(testKey(spec, 2), v, uint64(UpdateExist), 0); r != 0 {
					t.Fatalf("update of a key in a full map: %d", r)
				}
			}
			got := dumpMap(t, m, 1)
			if got[string(testKey(spec, 2))] != string(v) {
				t.Fatalf("after the update: %x", got[string(testKey(spec, 2))])
			}
			want := 3
			if spec.Type == LRUHash {
				want = 2 // the least recently used key made room
			}
			if len(got) != want {
				t.Fatalf("%d entries, want %d", len(got), want)
			}
			if r := m.UpdateElem(testKey(spec, 7), v, 0, 0); spec.Type != LRUHash && r == 0 {
				t.Fatal("an insert into a full map succeeded")
			}
		})
	}
}

// TestReplaceNeverHidesKey: while one goroutine replaces the values of
// keys that stay in the map (every update swaps in a fresh element), lock-free
// lookups on other goroutines always find them: the fresh element is linked
// before the old one is unlinked, inside one seqlock window. The map never
// holds a key twice for a reader that walks it, and never more entries than
// keys.
func TestReplaceNeverHidesKey(t *testing.T) {
	for _, typ := range []Type{Hash, LRUHash} {
		t.Run(typ.String(), func(t *testing.T) {
			const keys = 64
			spec := Spec{Name: "r", Type: typ, KeySize: 8, ValueSize: 32, MaxEntries: 2 * keys}
			m := mustNew(t, spec, 2).(*HashMap)
			for k := range keys {
				m.UpdateElem(u64(uint64(k)), make([]byte, 32), 0, 0)
			}
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				v := make([]byte, 32)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					v[0] = byte(i)
					if r := m.UpdateElem(u64(uint64(i%keys)), v, uint64(UpdateExist), 1); r != 0 {
						t.Errorf("update %d: %d", i, r)
						return
					}
				}
			}()
			deadline := time.Now().Add(300 * time.Millisecond)
			for i := 0; time.Now().Before(deadline); i++ {
				if m.LookupPtr(u64(uint64(i%keys)), 0) == nil {
					t.Fatalf("key %d missing during its replacement", i%keys)
				}
				if i%1000 == 0 {
					if n := m.ForEach(0, func(_, _ unsafe.Pointer) bool { return true }); n > keys+1 {
						t.Fatalf("ForEach saw %d entries of %d keys", n, keys)
					}
				}
			}
			close(stop)
			<-done
			if n := len(dumpMap(t, m, 2)); n != keys {
				t.Fatalf("%d entries after the replacements, want %d", n, keys)
			}
		})
	}
}
