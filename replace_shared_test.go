package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
)

// TestMapReplacementsProgramArray: a collection whose program array is
// another collection's tail-calls through it, and its static slots go into
// that array (as libbpf fills a reused one): the first dispatcher's UDP
// packets then run the second's handler, which counts in its own globals;
// when the second closes, its slots are empty to the first.
func TestMapReplacementsProgramArray(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/dispatcher.o")
	if err != nil {
		t.Fatal(err)
	}
	a, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{MapReplacements: map[string]*bpfhost.Map{"jump_table": a.Maps["jump_table"]}})
	if err != nil {
		t.Fatalf("a collection with another's program array: %v", err)
	}
	defer b.Close()
	udp := ipv4Packet([4]byte{10, 0, 0, 1})
	handled := func(c *bpfhost.Collection) [3]uint64 {
		var h [3]uint64
		if err := c.Variables["handled"].Get(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	for _, c := range []*bpfhost.Collection{a, b} {
		if got, err := c.Programs["xdp_dispatch"].Run(&bpfhost.RunOptions{Data: udp}); err != nil || got != 2 {
			t.Fatalf("UDP through the shared table: %d, %v; want XDP_PASS", got, err)
		}
	}
	if ha, hb := handled(a), handled(b); ha[1] != 0 || hb[1] != 2 {
		t.Errorf("UDP handled: by the first collection's handler %d, by the second's %d; want 0 and 2 (its static slots are the table's)", ha[1], hb[1])
	}
	b.Close()
	if got, err := a.Programs["xdp_dispatch"].Run(&bpfhost.RunOptions{Data: udp}); err != nil || got != 2 {
		t.Fatalf("after the second collection closed: %d, %v", got, err)
	}
	var fall uint64
	if err := a.Variables["fallthrough"].Get(&fall); err != nil || fall != 1 {
		t.Errorf("after the second collection closed, its slot is empty: fallthrough %d, %v; want 1", fall, err)
	}
}

// TestMapReplacementsChecked: what a replacement must match beyond type
// and sizes, since the programs are verified against the spec: the inner
// map template of a map of maps, where the value holds a bpf_spin_lock,
// the constants of a frozen .rodata; maps with timers are not shared.
func TestMapReplacementsChecked(t *testing.T) {
	inner := func(value uint32) *bpfhost.MapSpec {
		return &bpfhost.MapSpec{Name: "in", Type: uint32(maps.Array), KeySize: 4, ValueSize: value, MaxEntries: 1}
	}
	outer := func(value uint32) *bpfhost.MapSpec {
		return &bpfhost.MapSpec{Name: "outer", Type: uint32(maps.ArrayOfMaps), KeySize: 4, ValueSize: 4, MaxEntries: 2, InnerMap: inner(value)}
	}
	locked := func(off uint32) *bpfhost.MapSpec {
		return &bpfhost.MapSpec{Name: "locked", Type: uint32(maps.Hash), KeySize: 4, ValueSize: 16, MaxEntries: 4, HasSpinLock: true, SpinLockOffset: off}
	}
	plain := &bpfhost.MapSpec{Name: "locked", Type: uint32(maps.Hash), KeySize: 4, ValueSize: 16, MaxEntries: 4}
	rodata := func(b byte) *bpfhost.MapSpec {
		return &bpfhost.MapSpec{Name: ".rodata", Type: uint32(maps.Array), KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: maps.FlagRdOnlyProg, Data: []byte{b, 0, 0, 0, 0, 0, 0, 0}}
	}
	timer := &bpfhost.MapSpec{Name: "timed", Type: uint32(maps.Array), KeySize: 4, ValueSize: 16, MaxEntries: 1, HasTimer: true}
	owner, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{outer(8), locked(0), rodata(7), timer}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	for _, tc := range []struct {
		name string
		ms   *bpfhost.MapSpec
		repl string
		want error // nil: shared
	}{
		{"same inner template", outer(8), "outer", nil},
		{"other inner template", outer(4), "outer", bpfhost.ErrMapIncompatible},
		{"same lock", locked(0), "locked", nil},
		{"lock elsewhere", locked(8), "locked", bpfhost.ErrMapIncompatible},
		{"lock unknown to the spec", plain, "locked", bpfhost.ErrMapIncompatible},
		{"same constants", rodata(7), ".rodata", nil},
		{"other constants", rodata(8), ".rodata", bpfhost.ErrMapIncompatible},
		{"timers", timer, "timed", bpfhost.ErrNotSupported},
	} {
		ms := tc.ms.Copy()
		c, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{ms}},
			&bpfhost.CollectionOptions{MapReplacements: map[string]*bpfhost.Map{ms.Name: owner.Maps[tc.repl]}})
		if err == nil {
			if c.Maps[ms.Name].ID() != owner.Maps[tc.repl].ID() {
				t.Errorf("%s: the collection has a map of its own", tc.name)
			}
			c.Close()
		}
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestMapReplacementsMapOfMapsContents: a replaced map of maps keeps its
// own slots (the spec's static slots are not stored in it, as libbpf
// leaves a reused map of maps alone), while the spec's inner map is still
// created.
func TestMapReplacementsMapOfMapsContents(t *testing.T) {
	inner := &bpfhost.MapSpec{Name: "in", Type: uint32(maps.Array), KeySize: 4, ValueSize: 8, MaxEntries: 1}
	outer := func() *bpfhost.MapSpec {
		return &bpfhost.MapSpec{Name: "outer", Type: uint32(maps.ArrayOfMaps), KeySize: 4, ValueSize: 4, MaxEntries: 2,
			InnerMap: inner.Copy(), Contents: []object.MapKV{{Key: 0, Value: "in"}}}
	}
	owner, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{inner.Copy(), outer()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	c, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{inner.Copy(), outer()}},
		&bpfhost.CollectionOptions{MapReplacements: map[string]*bpfhost.Map{"outer": owner.Maps["outer"]}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var id uint32
	if err := owner.Maps["outer"].Lookup(uint32(0), &id); err != nil || id != owner.Maps["in"].ID() {
		t.Errorf("the replaced map of maps holds map %d (%v), want its own collection's inner map %d, not the other's %d",
			id, err, owner.Maps["in"].ID(), c.Maps["in"].ID())
	}
}
