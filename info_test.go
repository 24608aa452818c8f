package bpfhost_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestInfoAndClone checks Map.Info, Program.Info and Map.Clone as a
// cilium/ebpf user uses them: a clone outlives its collection until its own
// Close, and closed handles refuse.
func TestInfoAndClone(t *testing.T) {
	coll := loadObject(t, "examples/firewall.o", nil)
	drops := coll.Maps["drops"]
	mi, err := drops.Info()
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := mi.ID(); mi.Type != bpfhost.MapHash || mi.KeySize != 4 || mi.ValueSize != 8 || mi.MaxEntries != 1024 || mi.Name != "drops" || id != drops.ID() {
		t.Errorf("map info %+v", mi)
	}
	pi, err := coll.Programs["xdp_firewall"].Info()
	if err != nil {
		t.Fatal(err)
	}
	var want []uint32
	for _, n := range []string{"blocklist_v4", "blocklist_v6", "drops", "proto_stats"} {
		want = append(want, coll.Maps[n].ID())
	}
	slices.Sort(want)
	if ids, _ := pi.MapIDs(); pi.Name != "xdp_firewall" || pi.Type != "xdp" || !slices.Equal(ids, want) {
		t.Errorf("program info %+v, map IDs %v, want %v", pi, ids, want)
	}

	clone, err := drops.Clone()
	if err != nil {
		t.Fatal(err)
	}
	if err := drops.Put(uint32(7), uint64(70)); err != nil {
		t.Fatal(err)
	}
	coll.Close()
	if _, err := drops.Info(); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("Info of a closed handle: %v", err)
	}
	if _, err := coll.Programs["xdp_firewall"].Info(); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("Info of a closed program: %v", err)
	}
	if err := drops.Pin("/apireview/drops"); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("Pin of a closed handle: %v, want ErrClosed as its other operations", err)
	}
	if _, err := drops.Clone(); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("Clone of a closed handle: %v", err)
	}
	var v uint64
	if err := clone.Lookup(uint32(7), &v); err != nil || v != 70 {
		t.Errorf("clone after the collection closed: %d, %v", v, err)
	}
	if err := clone.Close(); err != nil {
		t.Fatal(err)
	}
	if err := clone.Close(); err != nil {
		t.Errorf("second Close of a clone: %v", err)
	}
	if err := clone.Lookup(uint32(7), &v); !errors.Is(err, bpfhost.ErrClosed) {
		t.Errorf("closed clone: %v", err)
	}

	progs, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		{Name: "jmp", Type: uint32(bpfhost.MapProgArray), KeySize: 4, ValueSize: 4, MaxEntries: 2}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer progs.Close()
	if _, err := progs.Maps["jmp"].Clone(); !errors.Is(err, bpfhost.ErrNotSupported) {
		t.Errorf("Clone of a program array: %v", err)
	}
}
