package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestLookupInnerMap looks up a map of maps into a **Map, as cilium/ebpf
// users do: the handle reaches the inner map, its Close leaves the map to
// its other holders, and Iterate decodes the same way; an ID still works.
func TestLookupInnerMap(t *testing.T) {
	inner := &bpfhost.MapSpec{Name: "inner", Type: uint32(bpfhost.MapHash), KeySize: 4, ValueSize: 4, MaxEntries: 4}
	c, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		inner,
		{Name: "outer", Type: uint32(bpfhost.MapArrayOfMaps), KeySize: 4, ValueSize: 4, MaxEntries: 2, InnerMap: inner.Copy()},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	outer := c.Maps["outer"]
	if err := outer.Put(uint32(1), c.Maps["inner"]); err != nil {
		t.Fatal(err)
	}
	var h *bpfhost.Map
	if err := outer.Lookup(uint32(1), &h); err != nil {
		t.Fatal(err)
	}
	if err := h.Put(uint32(5), uint32(50)); err != nil {
		t.Fatal(err)
	}
	var v uint32
	if err := c.Maps["inner"].Lookup(uint32(5), &v); err != nil || v != 50 {
		t.Errorf("inner map through the handle: %d, %v", v, err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Maps["inner"].Lookup(uint32(5), &v); err != nil {
		t.Errorf("inner map after the handle's Close: %v", err)
	}
	var id uint32
	if err := outer.Lookup(uint32(1), &id); err != nil || id != c.Maps["inner"].ID() {
		t.Errorf("inner map ID %d, %v; want %d", id, err, c.Maps["inner"].ID())
	}
	it := outer.Iterate()
	var k uint32
	n := 0
	for it.Next(&k, &h) {
		if k != 1 || h.ID() != id {
			t.Errorf("iterate: key %d, map ID %d", k, h.ID())
		}
		h.Close()
		n++
	}
	if err := it.Err(); err != nil || n != 1 {
		t.Errorf("iterate: %d entries, %v", n, err)
	}
	if err := outer.Lookup(uint32(1), (**bpfhost.Map)(nil)); !errors.Is(err, bpfhost.ErrInvalid) {
		t.Errorf("into a nil **Map: %v", err)
	}
	// A closed handle cannot be stored, as a closed descriptor cannot.
	if err := outer.Put(uint32(0), h); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("storing a closed handle: %v, want ErrClosed", err)
	}
}
