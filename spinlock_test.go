package bpfhost_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestUpdateLock checks that the spin lock BTF describes in a map value
// reaches the map: BPF_F_LOCK updates work, and a map without a lock still
// refuses them.
func TestUpdateLock(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("testdata/cli/spinlock.o")
	if err != nil {
		t.Fatal(err)
	}
	ms := spec.Map("counters")
	if ms == nil || !ms.HasSpinLock || ms.SpinLockOffset != 8 {
		t.Fatalf("counters spec: %+v, want a spin lock at offset 8", ms)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	m := coll.Maps["counters"]
	v := make([]byte, 16)
	binary.NativeEndian.PutUint64(v, 41)
	binary.NativeEndian.PutUint32(v[8:], 0xffffffff) // the lock word is not copied
	binary.NativeEndian.PutUint32(v[12:], 7)
	if err := m.Update(uint32(0), v, bpfhost.UpdateLock); err != nil {
		t.Fatalf("BPF_F_LOCK update: %v", err)
	}
	got, err := m.LookupBytes(uint32(0))
	if err != nil {
		t.Fatal(err)
	}
	if binary.NativeEndian.Uint64(got) != 41 || binary.NativeEndian.Uint32(got[12:]) != 7 || binary.NativeEndian.Uint32(got[8:]) != 0 {
		t.Errorf("value %x", got)
	}
	prog := coll.Programs["xdp_count"]
	if _, err := prog.Run(&bpfhost.RunOptions{Data: make([]byte, 60)}); err != nil {
		t.Fatal(err)
	}
	got, _ = m.LookupBytes(uint32(0))
	if binary.NativeEndian.Uint64(got) != 42 || binary.NativeEndian.Uint32(got[12:]) != 67 {
		t.Errorf("after a run: %x", got)
	}

	other, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	c2, err := bpfhost.NewCollection(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Maps["drops"].Update(uint32(1), uint64(1), bpfhost.UpdateLock); !errors.Is(err, bpfhost.ErrInvalid) {
		t.Errorf("BPF_F_LOCK on a map without a lock: %v, want ErrInvalid", err)
	}
}
