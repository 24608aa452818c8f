package maps

import "testing"

func TestDevMap(t *testing.T) {
	for _, c := range []struct {
		spec  Spec
		errno Errno
	}{
		{Spec{Type: DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 8}, 0},
		{Spec{Type: DevMapHash, KeySize: 4, ValueSize: 8, MaxEntries: 8}, 0},
		{Spec{Type: DevMap, KeySize: 8, ValueSize: 4, MaxEntries: 8}, EINVAL},
		{Spec{Type: DevMapHash, KeySize: 4, ValueSize: 6, MaxEntries: 8}, EINVAL},
		{Spec{Type: DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 8, Flags: FlagNoPrealloc}, EINVAL},
	} {
		_, err := New(c.spec, 2)
		if ErrnoOf(err) != c.errno {
			t.Errorf("%s key %d value %d flags %#x: %v, want errno %d", c.spec.Type, c.spec.KeySize, c.spec.ValueSize, c.spec.Flags, err, c.errno)
		}
	}

	dev, err := New(Spec{Type: DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 8}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Update(u32(3), u32(42), UpdateAny); err != nil {
		t.Fatal(err)
	}
	// A devmap is sparse: keys are absent until set, and below max_entries.
	if _, ok := DevMapIfindex(dev, 2, 0); ok {
		t.Error("devmap key 2 present before it was set")
	}
	if i, ok := DevMapIfindex(dev, 3, 1); !ok || i != 42 {
		t.Errorf("devmap key 3: %d, %v; want ifindex 42", i, ok)
	}
	if err := dev.Update(u32(8), u32(1), UpdateAny); ErrnoOf(err) != E2BIG {
		t.Errorf("devmap key 8 of 8: %v, want E2BIG", err)
	}
	if r := dev.(ElemMap).UpdateElem(u32(9), u32(1), 0, 0); r != -int64(E2BIG) {
		t.Errorf("program update of key 9: %d, want -E2BIG", r)
	}

	hash, err := New(Spec{Type: DevMapHash, KeySize: 4, ValueSize: 8, MaxEntries: 4}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := hash.Update(u32(1000), append(u32(7), 0, 0, 0, 0), UpdateAny); err != nil {
		t.Fatal(err)
	}
	if i, ok := DevMapIfindex(hash, 1000, 0); !ok || i != 7 {
		t.Errorf("devmap_hash key 1000: %d, %v; want ifindex 7", i, ok)
	}
	arr, _ := New(Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 1)
	if _, ok := DevMapIfindex(arr, 0, 0); ok {
		t.Error("an array is no redirect map")
	}
	cpus, err := New(Spec{Type: CPUMap, KeySize: 4, ValueSize: 4, MaxEntries: 2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := cpus.Update(u32(2), u32(64), UpdateAny); ErrnoOf(err) != E2BIG {
		t.Errorf("cpumap key 2 of 2: %v, want E2BIG", err)
	}
	if _, ok := DevMapIfindex(cpus, 0, 0); ok {
		t.Error("a cpumap names no interface")
	}
	if DevMap.String() != "devmap" || DevMapHash.String() != "devmap_hash" || CPUMap.String() != "cpumap" {
		t.Error("devmap type names")
	}
}
