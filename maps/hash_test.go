package maps

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"unsafe"
)

func TestHashUpdateErrors(t *testing.T) {
	for _, typ := range []Type{Hash, PerCPUHash, LRUHash, LRUPerCPUHash} {
		cases := []struct {
			name   string
			exists bool
			flags  UpdateFlags
			want   Errno
		}{
			{"any new", false, UpdateAny, 0},
			{"any existing", true, UpdateAny, 0},
			{"noexist new", false, UpdateNoExist, 0},
			{"noexist existing", true, UpdateNoExist, EEXIST},
			{"exist new", false, UpdateExist, ENOENT},
			{"exist existing", true, UpdateExist, 0},
			{"bad flags", true, 3, EINVAL},
			{"lock without spin lock", true, UpdateLock, EINVAL},
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/%s", typ, c.name), func(t *testing.T) {
				s := Spec{Name: "h", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 4}
				m := mustNew(t, s, 2).(*HashMap)
				val := make([]byte, s.userValueSize(2))
				if c.exists {
					wantErrno(t, "setup", m.Update(u32(1), val, UpdateAny), 0)
				}
				wantErrno(t, "Update", m.Update(u32(1), val, c.flags), c.want)
				m2 := mustNew(t, s, 2).(*HashMap)
				if c.exists {
					wantRet(t, "setup", m2.UpdateElem(u32(1), u64(0), 0, 0), 0)
				}
				wantRet(t, "UpdateElem", m2.UpdateElem(u32(1), u64(0), uint64(c.flags), 1), c.want)
			})
		}
	}
}

func TestHashOps(t *testing.T) {
	m := mustNew(t, Spec{Name: "h", Type: Hash, KeySize: 6, ValueSize: 3, MaxEntries: 3}, 1).(*HashMap)
	key := func(i int) []byte { return []byte(fmt.Sprintf("key%03d", i)) }
	for i := 0; i < 3; i++ {
		wantErrno(t, "Update", m.Update(key(i), []byte{byte(i), 2, 3}, UpdateAny), 0)
	}
	wantErrno(t, "Update full", m.Update(key(3), []byte{1, 2, 3}, UpdateAny), E2BIG)
	wantRet(t, "UpdateElem full", m.UpdateElem(key(3), []byte{1, 2, 3}, 0, 0), E2BIG)
	wantErrno(t, "Update existing when full", m.Update(key(1), []byte{7, 7, 7}, UpdateAny), 0)
	out := make([]byte, 3)
	wantErrno(t, "Lookup", m.Lookup(key(1), out), 0)
	if !bytes.Equal(out, []byte{7, 7, 7}) {
		t.Errorf("Lookup = %v", out)
	}
	wantErrno(t, "Lookup wrong key size", m.Lookup([]byte("k"), out), EINVAL)
	wantErrno(t, "Lookup missing", m.Lookup(key(9), out), ENOENT)

	p := m.LookupPtr(key(2), 0)
	if p == nil || uintptr(p)%8 != 0 || !bytes.Equal(unsafe.Slice((*byte)(p), 3), []byte{2, 2, 3}) {
		t.Fatalf("LookupPtr = %p", p)
	}
	wantErrno(t, "LookupAndDelete", m.LookupAndDelete(key(2), out), 0)
	if !bytes.Equal(out, []byte{2, 2, 3}) {
		t.Errorf("LookupAndDelete = %v", out)
	}
	wantErrno(t, "Delete missing", m.Delete(key(2)), ENOENT)
	wantRet(t, "DeleteElem missing", m.DeleteElem(key(2)), ENOENT)
	if m.LookupPtr(key(2), 0) != nil {
		t.Error("deleted key still found")
	}
	// The freed element is reused: the new key's value has the old address.
	wantRet(t, "UpdateElem reuse", m.UpdateElem(key(5), []byte{5, 5, 5}, uint64(UpdateNoExist), 0), 0)
	if q := m.LookupPtr(key(5), 0); q != p {
		t.Errorf("reused element at %p, want %p", q, p)
	}
	wantErrno(t, "Delete", m.Delete(key(5)), 0)
	wantRet(t, "DeleteElem", m.DeleteElem(key(0)), 0)
}

// keysOf iterates a map with NextKey.
func keysOf(t *testing.T, m Map) [][]byte {
	t.Helper()
	var keys [][]byte
	var key []byte
	for {
		next := make([]byte, m.Spec().KeySize)
		err := m.NextKey(key, next)
		if err != nil {
			wantErrno(t, "NextKey at end", err, ENOENT)
			return keys
		}
		keys = append(keys, next)
		key = next
		if len(keys) > int(m.Spec().MaxEntries)+1 {
			t.Fatal("NextKey does not end")
		}
	}
}

func TestHashNextKey(t *testing.T) {
	for _, typ := range []Type{Hash, PerCPUHash, LRUHash, HashOfMaps} {
		t.Run(typ.String(), func(t *testing.T) {
			s := Spec{Name: "h", Type: typ, KeySize: 4, ValueSize: 4, MaxEntries: 64,
				InnerMap: &Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}}
			m := mustNew(t, s, 2)
			if typ == HashOfMaps {
				s.ValueSize = 4
			}
			next := make([]byte, 4)
			wantErrno(t, "NextKey empty", m.NextKey(nil, next), ENOENT)
			want := map[uint32]bool{}
			for i := uint32(0); i < 40; i++ {
				if typ == HashOfMaps {
					inner := mustNew(t, *s.InnerMap, 2)
					wantErrno(t, "SetHandle", m.(HandleMap).SetHandle(u32(i*7), inner, UpdateAny), 0)
				} else {
					wantErrno(t, "Update", m.Update(u32(i*7), make([]byte, s.userValueSize(2)), UpdateAny), 0)
				}
				want[i*7] = true
			}
			keys := keysOf(t, m)
			got := map[uint32]bool{}
			for _, k := range keys {
				got[binary.NativeEndian.Uint32(k)] = true
			}
			if len(keys) != 40 || len(got) != 40 {
				t.Fatalf("iterated %d keys (%d distinct), want 40", len(keys), len(got))
			}
			for k := range want {
				if !got[k] {
					t.Errorf("key %d not iterated", k)
				}
			}
			// A key not in the map restarts at the first key.
			first := keys[0]
			wantErrno(t, "NextKey absent", m.NextKey(u32(1000), next), 0)
			if !bytes.Equal(next, first) {
				t.Errorf("NextKey(absent) = %v, want first %v", next, first)
			}
			// Deleting while iterating, as bpftool does to flush a map:
			// NextKey from the deleted key starts over and still ends.
			var key []byte
			deleted := 0
			for {
				err := m.NextKey(key, next)
				if err != nil {
					wantErrno(t, "NextKey", err, ENOENT)
					break
				}
				if key != nil {
					wantErrno(t, "Delete", m.Delete(key), 0)
					deleted++
				}
				key = slices.Clone(next)
				if deleted > 100 {
					t.Fatal("delete loop does not end")
				}
			}
			wantErrno(t, "Delete last", m.Delete(key), 0)
			if deleted+1 != 40 {
				t.Errorf("deleted %d, want 40", deleted+1)
			}
			wantErrno(t, "NextKey emptied", m.NextKey(nil, next), ENOENT)
		})
	}
}

func TestPerCPUHash(t *testing.T) {
	const slots = 3
	for _, typ := range []Type{PerCPUHash, LRUPerCPUHash} {
		t.Run(typ.String(), func(t *testing.T) {
			m := mustNew(t, Spec{Name: "p", Type: typ, KeySize: 4, ValueSize: 4, MaxEntries: 4}, slots).(*HashMap)
			// A program inserting a new key writes its slot; the others are 0.
			wantRet(t, "UpdateElem", m.UpdateElem(u32(1), u32(0xaabbccdd), 0, 1), 0)
			out := make([]byte, 8*slots)
			wantErrno(t, "Lookup", m.Lookup(u32(1), out), 0)
			want := make([]byte, 8*slots)
			binary.NativeEndian.PutUint32(want[8:], 0xaabbccdd)
			if !bytes.Equal(out, want) {
				t.Errorf("Lookup = %x, want %x", out, want)
			}
			in := make([]byte, 8*slots)
			for s := 0; s < slots; s++ {
				binary.NativeEndian.PutUint32(in[8*s:], uint32(100+s))
			}
			wantErrno(t, "Update", m.Update(u32(1), in, UpdateExist), 0)
			for s := 0; s < slots; s++ {
				if got := *(*uint32)(m.LookupPtr(u32(1), s)); got != uint32(100+s) {
					t.Errorf("slot %d = %d", s, got)
				}
				if m.LookupPercpuElem(u32(1), s) != m.LookupPtr(u32(1), s) {
					t.Errorf("LookupPercpuElem(%d)", s)
				}
			}
			if m.LookupPercpuElem(u32(1), slots) != nil {
				t.Error("LookupPercpuElem out of range")
			}
			wantRet(t, "UpdateElem bad slot", m.UpdateElem(u32(1), u32(0), 0, slots), EINVAL)
			wantErrno(t, "LookupAndDelete", m.LookupAndDelete(u32(1), out), 0)
			if !bytes.Equal(out[:4], in[:4]) || !bytes.Equal(out[16:20], in[16:20]) {
				t.Errorf("LookupAndDelete = %x", out)
			}
		})
	}
}

func TestHashForEach(t *testing.T) {
	m := mustNew(t, Spec{Name: "h", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 100}, 1).(*HashMap)
	for i := uint32(0); i < 50; i++ {
		m.Update(u32(i), u64(uint64(i)*10), UpdateAny)
	}
	// The callback may delete elements, as bpf_for_each_map_elem allows.
	seen := map[uint32]bool{}
	n := m.ForEach(0, func(k, v unsafe.Pointer) bool {
		key := *(*uint32)(k)
		if *(*uint64)(v) != uint64(key)*10 {
			t.Errorf("key %d has value %d", key, *(*uint64)(v))
		}
		seen[key] = true
		if key%2 == 0 {
			m.DeleteElem(u32(key))
		}
		return true
	})
	if n != 50 || len(seen) != 50 {
		t.Errorf("ForEach visited %d (%d distinct), want 50", n, len(seen))
	}
	if n := m.ForEach(0, func(k, v unsafe.Pointer) bool { return false }); n != 1 {
		t.Errorf("ForEach stopping at once returned %d", n)
	}
	if got := len(keysOf(t, m)); got != 25 {
		t.Errorf("%d keys left, want 25", got)
	}
}

func TestHashSpinLock(t *testing.T) {
	m := mustNew(t, Spec{Name: "l", Type: Hash, KeySize: 4, ValueSize: 16, MaxEntries: 2, HasSpinLock: true, SpinLockOffset: 8}, 1).(*HashMap)
	in := bytes.Repeat([]byte{1}, 16)
	wantErrno(t, "Update lock new", m.Update(u32(1), in, UpdateLock), 0)
	wantErrno(t, "Update lock noexist", m.Update(u32(1), in, UpdateLock|UpdateNoExist), EEXIST)
	out := make([]byte, 16)
	wantErrno(t, "LookupWithFlags", m.LookupWithFlags(u32(1), out, UpdateLock), 0)
	if want := []byte{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1}; !bytes.Equal(out, want) {
		t.Errorf("Lookup = %v, want %v", out, want)
	}
	wantErrno(t, "LookupWithFlags bad", m.LookupWithFlags(u32(1), out, UpdateExist), EINVAL)
}
