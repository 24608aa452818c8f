package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestVariables reads and writes examples/config.o's globals while its
// program counts in them, as cilium/ebpf's Collection.Variables does:
// Set changes only its own bytes, constants refuse, and so does a closed
// collection.
func TestVariables(t *testing.T) {
	coll := loadObject(t, "examples/config.o", nil)
	prog := coll.Programs["xdp_config"]
	pkt := ipv4Packet([4]byte{10, 0, 0, 1})
	for i := 0; i < 3; i++ {
		if _, _, err := prog.Test(pkt); err != nil {
			t.Fatal(err)
		}
	}
	seen, sampled, lastLen, port := coll.Variables["seen"], coll.Variables["sampled"], coll.Variables["last_len"], coll.Variables["blocked_port"]
	if seen == nil || sampled == nil || lastLen == nil || port == nil {
		t.Fatalf("variables %v", coll.Variables)
	}
	var n uint64
	if err := seen.Get(&n); err != nil || n != 3 {
		t.Errorf("seen after 3 runs: %d, %v", n, err)
	}
	var l uint32
	if err := lastLen.Get(&l); err != nil || l != uint32(len(pkt)) {
		t.Errorf("last_len: %d, %v; want %d", l, err, len(pkt))
	}
	// seen and sampled are neighbours in .bss: setting one keeps the other.
	if err := seen.Set(uint64(100)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := prog.Test(pkt); err != nil {
		t.Fatal(err)
	}
	var s uint64
	if err := seen.Get(&n); err != nil || n != 101 {
		t.Errorf("seen after Set(100) and a run: %d, %v", n, err)
	}
	if err := sampled.Get(&s); err != nil || s != 1 {
		t.Errorf("sampled: %d, %v; want 1 (runs 2 of 3, not run 101)", s, err)
	}
	var p uint16
	if err := port.Get(&p); err != nil || p != 23 || !port.ReadOnly() {
		t.Errorf("blocked_port: %d, %v, read-only %v", p, err, port.ReadOnly())
	}
	if err := port.Set(uint16(80)); !errors.Is(err, bpfhost.ErrPermission) {
		t.Errorf("Set of a constant: %v, want ErrPermission", err)
	}
	if err := seen.Set(uint32(1)); !errors.Is(err, bpfhost.ErrInvalid) {
		t.Errorf("Set of 4 bytes into an 8-byte variable: %v", err)
	}
	if err := seen.Get((*uint64)(nil)); !errors.Is(err, bpfhost.ErrInvalid) {
		t.Errorf("Get into a nil pointer: %v", err)
	}

	var objs struct {
		Seen *bpfhost.Variable `ebpf:"seen"`
	}
	if err := coll.Assign(&objs); err != nil || objs.Seen != seen {
		t.Errorf("Assign of a variable: %v", err)
	}
	coll.Close()
	if err := seen.Get(&n); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
	if err := seen.Set(uint64(1)); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("Set after Close: %v", err)
	}
}

// loadObject loads the object at path as a collection that the test's end
// closes.
func loadObject(t *testing.T, path string, opts *bpfhost.CollectionOptions) *bpfhost.Collection {
	t.Helper()
	spec, err := bpfhost.LoadCollectionSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	return coll
}
