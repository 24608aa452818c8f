package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestNewMap creates maps without an object, as cilium/ebpf's NewMap: one
// used by a collection through MapReplacements, and a program array; each
// works until its Close, and a spec Linux refuses is an error.
func TestNewMap(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	drops, err := bpfhost.NewMap(spec.Map("drops"))
	if err != nil {
		t.Fatal(err)
	}
	coll := loadObject(t, "examples/firewall.o", &bpfhost.CollectionOptions{MapReplacements: map[string]*bpfhost.Map{"drops": drops}})
	blockV4(t, coll, 32, [4]byte{203, 0, 113, 7}, 3)
	if _, _, err := coll.Programs["xdp_firewall"].Test(ipv4Packet([4]byte{203, 0, 113, 7})); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := drops.Lookup(uint32(3), &n); err != nil || n != 1 {
		t.Errorf("drops counted through NewMap's map: %d, %v", n, err)
	}
	if err := drops.Close(); err != nil {
		t.Fatal(err)
	}
	if err := drops.Lookup(uint32(3), &n); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if err := coll.Maps["drops"].Lookup(uint32(3), &n); err != nil || n != 1 {
		t.Errorf("the collection's handle after NewMap's was closed: %d, %v", n, err)
	}

	jmp, err := bpfhost.NewMap(&bpfhost.MapSpec{Name: "jmp", Type: uint32(bpfhost.MapProgArray), KeySize: 4, ValueSize: 4, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := jmp.Put(uint32(0), coll.Programs["xdp_firewall"]); err != nil {
		t.Errorf("program array from NewMap: %v", err)
	}
	if err := jmp.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := bpfhost.NewMap(&bpfhost.MapSpec{Name: "bad", Type: uint32(bpfhost.MapHash), KeySize: 0, ValueSize: 4, MaxEntries: 1}); err == nil {
		t.Error("a hash map with 0-byte keys was created")
	}
	if _, err := bpfhost.NewMap(nil); !errors.Is(err, bpfhost.ErrInvalid) {
		t.Errorf("nil spec: %v", err)
	}
}
