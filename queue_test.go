package bpfhost_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestQueueValues: a queue's and a stack's values come oldest first and
// stay in the map; Lookup, Update and LookupAndDelete with a nil key peek,
// push and pop; other maps have no queue values.
func TestQueueValues(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("daemon/testdata/queue.o") // fifo, lifo: 4 u32s
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	for name, next := range map[string]uint32{"fifo": 1, "lifo": 3} {
		m := coll.Maps[name]
		for v := uint32(1); v <= 3; v++ {
			if err := m.Update(nil, v, bpfhost.UpdateAny); err != nil {
				t.Fatal(err)
			}
		}
		vals, err := m.QueueValues()
		if err != nil || len(vals) != 3 {
			t.Fatalf("%s: values %x, %v: want 3", name, vals, err)
		}
		for i, v := range vals {
			if got := binary.NativeEndian.Uint32(v); got != uint32(i+1) {
				t.Errorf("%s: value %d is %d, want %d (oldest first)", name, i, got, i+1)
			}
		}
		var v uint32
		if err := m.Lookup(nil, &v); err != nil || v != next {
			t.Errorf("%s: peek %d, %v: want %d", name, v, err, next)
		}
		if err := m.LookupAndDelete(nil, &v); err != nil || v != next {
			t.Errorf("%s: pop %d, %v: want %d", name, v, err, next)
		}
		if vals, _ := m.QueueValues(); len(vals) != 2 {
			t.Errorf("%s: %d values after a pop, want 2", name, len(vals))
		}
		if m.Frozen() {
			t.Errorf("%s: frozen before Freeze", name)
		}
		if err := m.Freeze(); err != nil || !m.Frozen() {
			t.Errorf("%s: Freeze: %v, frozen %v", name, err, m.Frozen())
		}
	}
	other, err := bpfhost.LoadCollectionSpec("daemon/testdata/counter.o")
	if err != nil {
		t.Fatal(err)
	}
	oc, err := bpfhost.NewCollection(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	if len(oc.Maps) == 0 {
		t.Fatal("counter.o has no maps")
	}
	for name, m := range oc.Maps {
		if _, err := m.QueueValues(); !errors.Is(err, bpfhost.ErrNotSupported) {
			t.Errorf("map %q (%s): %v, want ErrNotSupported", name, m.Type(), err)
		}
	}
}
