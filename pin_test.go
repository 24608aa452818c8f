package bpfhost

import (
	"errors"
	"testing"
)

const pinnedObject = "testdata/pin/pinned.o"

func loadPinned(t *testing.T, pinPath string) (*Collection, error) {
	t.Helper()
	spec, err := LoadCollectionSpec(pinnedObject)
	if err != nil {
		t.Fatal(err)
	}
	return NewCollection(spec, &CollectionOptions{PinPath: pinPath, Engine: EngineInterp, Slots: 2})
}

func runCount(t *testing.T, c *Collection) {
	t.Helper()
	if _, err := c.Programs["count"].Run(&RunOptions{Data: make([]byte, 64)}); err != nil {
		t.Fatal(err)
	}
}

func hits(t *testing.T, m *Map) uint64 {
	t.Helper()
	var v uint64
	if err := m.Lookup(uint32(0), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPinByName: two collections loaded under one PinPath share the map
// their object pins by name and nothing else; the map outlives both while
// pinned, LoadPinnedMap reaches it, and Unpin releases it.
func TestPinByName(t *testing.T) {
	dir := "/" + t.Name()
	spec, err := LoadCollectionSpec(pinnedObject)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Maps[0].Name != "hits" && spec.Maps[1].Name != "hits" {
		t.Fatalf("maps %v", spec.Maps)
	}
	for _, ms := range spec.Maps {
		if want := map[string]Pinning{"hits": PinByName, "local": PinNone}[ms.Name]; ms.Pinning != want {
			t.Errorf("map %s: pinning %d, want %d (from the object's BTF)", ms.Name, ms.Pinning, want)
		}
	}
	c1, err := loadPinned(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := loadPinned(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	runCount(t, c1)
	runCount(t, c2)
	runCount(t, c2)
	if h1, h2 := hits(t, c1.Maps["hits"]), hits(t, c2.Maps["hits"]); h1 != 3 || h2 != 3 {
		t.Errorf("hits %d and %d, want 3 in the one shared map", h1, h2)
	}
	if l1, l2 := hits(t, c1.Maps["local"]), hits(t, c2.Maps["local"]); l1 != 1 || l2 != 2 {
		t.Errorf("local %d and %d, want each collection's own (1, 2)", l1, l2)
	}
	if err := c1.Maps["hits"].Close(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Close of a collection's map: %v", err)
	}
	id := c1.Maps["hits"].ID()
	c1.Close()
	c2.Close()

	m, err := LoadPinnedMap(dir + "/hits")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID() != id || hits(t, m) != 3 {
		t.Errorf("pinned map id %d hits %d, want id %d hits 3", m.ID(), hits(t, m), id)
	}
	if err := m.Pin(dir + "/again"); err != nil {
		t.Fatal(err)
	}
	if err := m.Pin(dir + "/again"); !errors.Is(err, ErrKeyExist) {
		t.Errorf("second pin at one path: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Unpin(dir + "/hits"); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPinnedMap(dir + "/hits"); !errors.Is(err, ErrKeyNotExist) {
		t.Errorf("LoadPinnedMap after Unpin: %v", err)
	}
	if _, ok := registry.maps.Load(id); !ok {
		t.Fatal("map released while pinned at /again")
	}
	if err := Unpin(dir + "/again"); err != nil {
		t.Fatal(err)
	}
	if _, ok := registry.maps.Load(id); ok {
		t.Error("map not released after its last holder let go")
	}
	if err := Unpin(dir + "/again"); !errors.Is(err, ErrKeyNotExist) {
		t.Errorf("Unpin of a missing pin: %v", err)
	}
}

// TestPinIncompatible: a collection whose map differs from the pinned one
// fails, and leaves the pin as it was.
func TestPinIncompatible(t *testing.T) {
	dir := "/" + t.Name()
	c1, err := loadPinned(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer Unpin(dir + "/hits")
	defer c1.Close()
	spec, err := LoadCollectionSpec(pinnedObject)
	if err != nil {
		t.Fatal(err)
	}
	for _, ms := range spec.Maps {
		if ms.Name == "hits" {
			ms.MaxEntries = 17
		}
	}
	if _, err := NewCollection(spec, &CollectionOptions{PinPath: dir, Engine: EngineInterp, Slots: 2}); !errors.Is(err, ErrMapIncompatible) {
		t.Errorf("incompatible map: %v", err)
	}
	spec, _ = LoadCollectionSpec(pinnedObject)
	if _, err := NewCollection(spec, &CollectionOptions{PinPath: dir, Engine: EngineInterp, Slots: 3}); !errors.Is(err, ErrMapIncompatible) {
		t.Errorf("other slot count: %v", err)
	}
	if _, err := loadPinned(t, "relative"); !errors.Is(err, ErrInvalid) {
		t.Errorf("relative PinPath: %v", err)
	}
	m, err := LoadPinnedMap(dir + "/hits")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.MaxEntries() != 16 || m.ID() != c1.Maps["hits"].ID() {
		t.Errorf("pin changed: %d entries, id %d", m.MaxEntries(), m.ID())
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestPinFailedCollection: a collection that fails pins nothing.
func TestPinFailedCollection(t *testing.T) {
	dir := "/" + t.Name()
	spec, err := LoadCollectionSpec(pinnedObject)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewCollection(spec, &CollectionOptions{PinPath: dir, Programs: []string{"nosuch"}})
	if err == nil {
		t.Fatal("loaded a missing program")
	}
	if _, err := LoadPinnedMap(dir + "/hits"); !errors.Is(err, ErrKeyNotExist) {
		t.Errorf("a failed collection pinned its map: %v", err)
	}
}
