package object

import "testing"

// TestBTFNumaNode loads BTF map definitions with a numa_node member, on an
// outer map and on a map-in-map's inner definition.
func TestBTFNumaNode(t *testing.T) {
	spec := mustLoad(t, "numa.o")
	m := spec.Map("on_node")
	if m == nil {
		t.Fatal("no map on_node")
	}
	const lruHash, numaFlag = 9, 1 << 2
	if m.Type != lruHash || m.NumaNode != 1 || m.Flags != numaFlag || m.KeySize != 4 || m.ValueSize != 8 || m.MaxEntries != 64 {
		t.Errorf("on_node: %+v, want an LRU hash of 64 entries on NUMA node 1", m)
	}
	outer := spec.Map("outer")
	if outer == nil || outer.InnerMap == nil {
		t.Fatalf("outer: %+v, want a map-in-map with its inner map", outer)
	}
	const array = 2
	if in := outer.InnerMap; in.Type != array || in.MaxEntries != 4 || in.ValueSize != 8 {
		t.Errorf("outer's inner map: %+v, want an array of 4 u64", in)
	}
	if spec.Program("numa_maps") == nil {
		t.Error("no program numa_maps")
	}
}
