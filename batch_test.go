package bpfhost_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestBatchNilCursor checks that a nil cursor is an error, not a panic.
func TestBatchNilCursor(t *testing.T) {
	h, _ := marshalMaps(t)
	for name, f := range map[string]func(*bpfhost.MapBatchCursor, any, any) (int, error){
		"BatchLookup": h.BatchLookup, "BatchLookupAndDelete": h.BatchLookupAndDelete,
	} {
		err := noPanic(func() error { _, err := f(nil, make([]uint32, 2), make([]uint64, 2)); return err })
		if !errors.Is(err, bpfhost.ErrInvalid) {
			t.Errorf("%s with a nil cursor: %v, want ErrInvalid", name, err)
		}
	}
}

// TestBatchPerCPUFlat checks cilium/ebpf's layout of per-CPU values in batch
// operations: Slots() values per key, one after the other.
func TestBatchPerCPUFlat(t *testing.T) {
	_, pc := marshalMaps(t) // 4 slots; key 1 = {1, 2, 3, 4}
	if n, err := pc.BatchUpdate([]uint32{2, 3}, []uint32{5, 6, 7, 8, 9, 10, 11, 12}, bpfhost.UpdateAny); n != 2 || err != nil {
		t.Fatalf("flat BatchUpdate: %d, %v", n, err)
	}
	var got []uint32
	if err := pc.Lookup(uint32(3), &got); err != nil || !slices.Equal(got, []uint32{9, 10, 11, 12}) {
		t.Errorf("key 3 after flat BatchUpdate: %v, %v", got, err)
	}
	if _, err := pc.BatchUpdate([]uint32{2, 3}, []uint32{5, 6, 7}, bpfhost.UpdateAny); !errors.Is(err, bpfhost.ErrInvalid) {
		t.Errorf("flat BatchUpdate of 3 values for 2 keys: %v", err)
	}
	var c bpfhost.MapBatchCursor
	keys, vals := make([]uint32, 4), make([]uint32, 16)
	n, err := pc.BatchLookup(&c, keys, vals)
	if n != 3 || !errors.Is(err, bpfhost.ErrKeyNotExist) {
		t.Fatalf("flat BatchLookup: %d, %v; want 3 and ErrKeyNotExist", n, err)
	}
	byKey := map[uint32][]uint32{}
	for i, k := range keys[:n] {
		byKey[k] = vals[i*4 : i*4+4]
	}
	if !slices.Equal(byKey[1], []uint32{1, 2, 3, 4}) || !slices.Equal(byKey[2], []uint32{5, 6, 7, 8}) || !slices.Equal(byKey[3], []uint32{9, 10, 11, 12}) {
		t.Errorf("flat BatchLookup: keys %v values %v", keys, vals)
	}
	// The nested layout still works.
	var c2 bpfhost.MapBatchCursor
	nested := make([][]uint32, 4)
	if n, _ := pc.BatchLookup(&c2, keys, nested); n != 3 || len(nested[0]) != 4 {
		t.Errorf("nested BatchLookup: %d, %v", n, nested)
	}
}

// TestBatchLookupAndDelete drains a hash map in batches smaller than it and
// checks every entry comes out once and the map ends empty; an array
// refuses, as Linux's does.
func TestBatchLookupAndDelete(t *testing.T) {
	h, _ := marshalMaps(t)
	for k := uint32(2); k <= 10; k++ {
		if err := h.Put(k, uint64(k)*10); err != nil {
			t.Fatal(err)
		}
	}
	h.Put(uint32(1), uint64(10))
	var c bpfhost.MapBatchCursor
	seen := map[uint32]uint64{}
	for i := 0; ; i++ {
		if i > 10 {
			t.Fatal("BatchLookupAndDelete does not end")
		}
		keys, vals := make([]uint32, 4), make([]uint64, 4)
		n, err := h.BatchLookupAndDelete(&c, keys, vals)
		for j := 0; j < n; j++ {
			if _, dup := seen[keys[j]]; dup {
				t.Errorf("key %d twice", keys[j])
			}
			seen[keys[j]] = vals[j]
		}
		if errors.Is(err, bpfhost.ErrKeyNotExist) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 10 || seen[7] != 70 {
		t.Errorf("drained %v", seen)
	}
	if err := h.NextKey(nil, new(uint32)); !errors.Is(err, bpfhost.ErrKeyNotExist) {
		t.Errorf("map after draining: NextKey %v", err)
	}

	c2, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		{Name: "a", Type: uint32(bpfhost.MapArray), KeySize: 4, ValueSize: 8, MaxEntries: 4}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	var ac bpfhost.MapBatchCursor
	if n, err := c2.Maps["a"].BatchLookupAndDelete(&ac, make([]uint32, 4), make([]uint64, 4)); n != 0 || err == nil || errors.Is(err, bpfhost.ErrKeyNotExist) {
		t.Errorf("array BatchLookupAndDelete: %d, %v; want an error", n, err)
	}
}

// TestBatchClosed checks that batch operations on a closed handle fail with
// ErrClosed even when they have nothing to do.
func TestBatchClosed(t *testing.T) {
	c, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		{Name: "h", Type: uint32(bpfhost.MapHash), KeySize: 4, ValueSize: 8, MaxEntries: 4}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := c.Maps["h"]
	c.Close()
	if _, err := h.BatchUpdate([]uint32{}, []uint64{}, bpfhost.UpdateAny); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("BatchUpdate after Close: %v", err)
	}
	if _, err := h.BatchDelete([]uint32{}); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("BatchDelete after Close: %v", err)
	}
}

// TestBatchWalkEnds deletes the cursor's key between the calls of a batch
// walk and adds another, so that every call starts a hash map's walk over
// (NextKey of a missing key gives the first key) and the map never runs
// out: the walk must still end, with ErrIterationAborted, instead of
// returning entries forever. One goroutine: the sequence is deterministic.
func TestBatchWalkEnds(t *testing.T) {
	c, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		{Name: "h", Type: uint32(bpfhost.MapHash), KeySize: 4, ValueSize: 8, MaxEntries: 16}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h := c.Maps["h"]
	next := uint32(0)
	for ; next < 8; next++ {
		if err := h.Put(next, uint64(next)); err != nil {
			t.Fatal(err)
		}
	}
	var cur bpfhost.MapBatchCursor
	keys, vals := make([]uint32, 1), make([]uint64, 1)
	for calls := 0; ; calls++ {
		if calls > 1000 {
			t.Fatal("the walk did not end after 1000 calls")
		}
		n, err := h.BatchLookup(&cur, keys, vals)
		if errors.Is(err, bpfhost.ErrIterationAborted) {
			break
		}
		if err != nil || n != 1 {
			t.Fatalf("call %d: %d, %v", calls, n, err)
		}
		if err := h.Delete(keys[0]); err != nil {
			t.Fatal(err)
		}
		if err := h.Put(next, uint64(next)); err != nil {
			t.Fatal(err)
		}
		next++
	}
}
