package bpfhost_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/maps"
)

// TestSlotsCappedAtGOMAXPROCS checks F10: with more processors than maps
// allow slots for, a collection gets maps.MaxSlots slots instead of
// failing every map.
func TestSlotsCappedAtGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(maps.MaxSlots + 904))
	spec := &bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		{Name: "pc", Type: uint32(maps.PerCPUArray), KeySize: 4, ValueSize: 8, MaxEntries: 4},
	}}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatalf("GOMAXPROCS %d: %v", runtime.GOMAXPROCS(0), err)
	}
	defer coll.Close()
	if got := coll.Maps["pc"].Slots(); got != maps.MaxSlots {
		t.Errorf("per-CPU map has %d slots, want %d", got, maps.MaxSlots)
	}
	if _, err := maps.New(maps.Spec{Name: "direct", Type: maps.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1}, 0); err != nil {
		t.Errorf("maps.New with default slots: %v", err)
	}
	if _, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Slots: maps.MaxSlots + 1}); err == nil || !strings.Contains(err.Error(), "execution slots") {
		t.Errorf("explicit Slots over the cap: %v; want an error", err)
	}
}
