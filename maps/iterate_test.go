package maps

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestIterator(t *testing.T) {
	m := mustNew(t, Spec{Name: "h", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 32}, 1)
	for i := uint32(0); i < 20; i++ {
		m.Update(u32(i), u64(uint64(i)*3), UpdateAny)
	}
	key, val := make([]byte, 4), make([]byte, 8)
	seen := map[uint32]bool{}
	it := Iterate(m)
	for it.Next(key, val) {
		k := binary.NativeEndian.Uint32(key)
		if binary.NativeEndian.Uint64(val) != uint64(k)*3 {
			t.Errorf("key %d: value %d", k, binary.NativeEndian.Uint64(val))
		}
		seen[k] = true
	}
	if it.Err() != nil || len(seen) != 20 {
		t.Errorf("iterated %d keys, err %v", len(seen), it.Err())
	}

	// Per-CPU values come in Linux's layout.
	p := mustNew(t, Spec{Name: "p", Type: PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 3}, 2)
	n := 0
	it = Iterate(p)
	for it.Next(key, make([]byte, 16)) {
		n++
	}
	if n != 3 || it.Err() != nil {
		t.Errorf("per-CPU array: %d keys, %v", n, it.Err())
	}

	// A Lookup error other than a missing key ends the walk.
	w := mustNew(t, Spec{Name: "w", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 3, Flags: FlagWrOnly}, 1)
	it = Iterate(w)
	if it.Next(key, val[:4]) || !errors.Is(it.Err(), ErrPermission) {
		t.Errorf("write-only map: %v", it.Err())
	}
}
