package maps

import (
	"testing"
	"unsafe"
)

// TestArrayForEachKeys checks the key words ForEach hands to callbacks: each
// holds its index while the callback runs, also when a callback walks the
// same array again, and arrays keep no per-element key table.
func TestArrayForEachKeys(t *testing.T) {
	arr := mustNew(t, Spec{Name: "a", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 3}, 2).(*ArrayMap)
	var outer []uint32
	arr.ForEach(1, func(k, _ unsafe.Pointer) bool {
		key := (*uint32)(k)
		before := *key
		var inner []uint32
		arr.ForEach(1, func(k, _ unsafe.Pointer) bool {
			inner = append(inner, *(*uint32)(k))
			return true
		})
		if len(inner) != 3 || inner[0] != 0 || inner[2] != 2 {
			t.Errorf("nested walk keys %v", inner)
		}
		if *key != before {
			t.Errorf("outer key changed from %d to %d by a nested walk", before, *key)
		}
		outer = append(outer, *key)
		return true
	})
	if len(outer) != 3 || outer[0] != 0 || outer[1] != 1 || outer[2] != 2 {
		t.Errorf("keys %v, want [0 1 2]", outer)
	}
	// A slot the map was not made for still walks, with a word of its own.
	if n := arr.ForEach(99, func(k, _ unsafe.Pointer) bool { return true }); n != 3 {
		t.Errorf("walk on slot 99: %d calls", n)
	}
	if ks := arr.forEachKeys.Load(); ks == nil || (*ks)[1].depth != 0 {
		t.Errorf("nesting depth not released")
	}
}
