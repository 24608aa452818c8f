package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestBloomLookup checks a bloom filter's user-space Lookup: the value
// argument is the element tested (cilium/ebpf passes its memory to the
// kernel as the value to look for), so an added element is found, by
// pointer or by value. Lookup used to test a zeroed buffer instead.
func TestBloomLookup(t *testing.T) {
	c, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		{Name: "b", Type: uint32(bpfhost.MapBloomFilter), ValueSize: 4, MaxEntries: 64},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := c.Maps["b"]
	for v := uint32(1); v <= 5; v++ {
		if err := b.Put(nil, v); err != nil {
			t.Fatal(err)
		}
	}
	v := uint32(3)
	if err := b.Lookup(nil, &v); err != nil || v != 3 {
		t.Errorf("added element by pointer: %v (v %d)", err, v)
	}
	if err := b.Lookup(nil, uint32(5)); err != nil {
		t.Errorf("added element by value: %v", err)
	}
	// Elements never added may be false positives (the hash seed is
	// random), but not a hundred of them in a filter of 64 entries that
	// holds five.
	absent := 0
	for v := uint32(100); v < 200; v++ {
		if err := b.Lookup(nil, v); errors.Is(err, bpfhost.ErrKeyNotExist) {
			absent++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if absent == 0 {
		t.Error("every element never added is reported present")
	}
	if err := b.Lookup(nil, nil); !errors.Is(err, bpfhost.ErrInvalid) {
		t.Errorf("no element: %v, want ErrInvalid", err)
	}
}
