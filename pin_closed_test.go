package bpfhost

import (
	"errors"
	"testing"
)

// TestClosedHandleOfLiveMap: a map handle that was closed (its collection
// closed, or the handle LoadPinnedMap gave) fails every operation with
// ErrClosed, as a closed file descriptor does in Linux, even while a pin
// keeps the map itself alive. The operations used to go through to the
// live map.
func TestClosedHandleOfLiveMap(t *testing.T) {
	dir := "/" + t.Name()
	c, err := loadPinned(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer Unpin(dir + "/hits")
	runCount(t, c)
	collMap := c.Maps["hits"]
	c.Close()
	pinned, err := LoadPinnedMap(dir + "/hits")
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadPinnedMap(dir + "/hits")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := pinned.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pinned.Close(); err != nil {
		t.Errorf("second Close: %v, want nil as for cilium/ebpf", err)
	}
	for name, m := range map[string]*Map{"collection's": collMap, "pinned": pinned} {
		var v uint64
		var k uint32
		ops := map[string]error{
			"lookup": m.Lookup(uint32(0), &v),
			"update": m.Update(uint32(0), uint64(9), UpdateAny),
			"delete": m.Delete(uint32(0)),
			"next":   m.NextKey(nil, &k),
			"freeze": m.Freeze(),
		}
		it := m.Iterate()
		for it.Next(&k, &v) {
		}
		ops["iterate"] = it.Err()
		_, ops["batch lookup"] = m.BatchLookup(&MapBatchCursor{}, make([]uint32, 1), make([]uint64, 1))
		for op, err := range ops {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s handle after Close: %s: %v, want ErrClosed", name, op, err)
			}
		}
	}
	// The map itself lives on, unchanged by the refused update.
	if h := hits(t, other); h != 1 {
		t.Errorf("hits through an open handle %d, want 1", h)
	}
}
