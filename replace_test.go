package bpfhost_test

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestMapReplacements runs the firewall with its drops map replaced by a map
// of another collection: the program counts into it, that collection may
// close meanwhile, and replacements that do not fit are refused.
func TestMapReplacements(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	own, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		spec.Map("drops").Copy(),
		{Name: "small", Type: uint32(bpfhost.MapHash), KeySize: 4, ValueSize: 8, MaxEntries: 8},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	drops := own.Maps["drops"]
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{MapReplacements: map[string]*bpfhost.Map{"drops": drops}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	blockV4(t, coll, 32, [4]byte{203, 0, 113, 7}, 3)
	pkt := ipv4Packet([4]byte{203, 0, 113, 7})
	if verdict, _, err := coll.Programs["xdp_firewall"].Test(pkt); err != nil || verdict != 1 {
		t.Fatalf("blocked packet: verdict %d, %v; want XDP_DROP", verdict, err)
	}
	var n uint64
	if err := drops.Lookup(uint32(3), &n); err != nil || n != 1 {
		t.Errorf("drops of rule 3 in the replacement: %d, %v; want 1", n, err)
	}
	// The replacement's own collection closes; the program's map lives on.
	own.Close()
	if verdict, _, err := coll.Programs["xdp_firewall"].Test(pkt); err != nil || verdict != 1 {
		t.Fatalf("after the replacement's collection closed: verdict %d, %v", verdict, err)
	}
	if err := coll.Maps["drops"].Lookup(uint32(3), &n); err != nil || n != 2 {
		t.Errorf("drops of rule 3: %d, %v; want 2", n, err)
	}

	other, err := bpfhost.NewCollection(&bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		{Name: "small", Type: uint32(bpfhost.MapHash), KeySize: 4, ValueSize: 8, MaxEntries: 8},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	small := other.Maps["small"]
	for name, tc := range map[string]struct {
		repl map[string]*bpfhost.Map
		want error
	}{
		"incompatible": {map[string]*bpfhost.Map{"drops": small}, bpfhost.ErrMapIncompatible},
		"unknown name": {map[string]*bpfhost.Map{"nope": small}, bpfhost.ErrInvalid},
		"nil map":      {map[string]*bpfhost.Map{"drops": nil}, bpfhost.ErrInvalid},
		"closed":       {map[string]*bpfhost.Map{"drops": drops}, bpfhost.ErrClosed},
	} {
		c, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{MapReplacements: tc.repl})
		if err == nil {
			c.Close()
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	other.Close()
}

// blockV4 adds the firewall rule that blocks addr/prefixLen as rule number
// rule.
func blockV4(t *testing.T, coll *bpfhost.Collection, prefixLen uint32, addr [4]byte, rule uint32) {
	t.Helper()
	key := struct {
		PrefixLen uint32
		Addr      [4]byte
	}{prefixLen, addr}
	if err := coll.Maps["blocklist_v4"].Put(key, rule); err != nil {
		t.Fatal(err)
	}
}
