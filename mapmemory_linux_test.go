package bpfhost

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/maps"
)

// TestMapMemoryDir: with CollectionOptions.MapMemoryDir, what a program
// stores in an array is in the map's memory file (a separate read-only
// mapping sees it) and a later collection over the same directory starts
// from it; global data keeps its stored value instead of the object's
// initial data; the hash map keeps its entries in its file too, written by
// the interpreter's helper and read back by the JIT's inline lookup.
func TestMapMemoryDir(t *testing.T) {
	dir := t.TempDir()
	spec, err := LoadCollectionSpec(pinnedObject)
	if err != nil {
		t.Fatal(err)
	}
	spec.Maps = append(spec.Maps, &MapSpec{Name: ".data", Type: uint32(MapArray), KeySize: 4, ValueSize: 8, MaxEntries: 1, Data: []byte{5, 0, 0, 0, 0, 0, 0, 0}})
	engine := EngineInterp
	load := func() *Collection {
		c, err := NewCollection(spec, &CollectionOptions{Engine: engine, Slots: 2, MapMemoryDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := load()
	if got := c.Maps["local"].MemoryFile(); got != filepath.Join(dir, "local") {
		t.Fatalf("MemoryFile of local = %q", got)
	}
	if got := c.Maps["hits"].MemoryFile(); got != filepath.Join(dir, "hits") {
		t.Fatalf("MemoryFile of the hash map hits = %q", got)
	}
	if hits(t, c.Maps[".data"]) != 5 {
		t.Fatal("global data not initialised in a new file")
	}
	runCount(t, c)
	runCount(t, c)
	if err := c.Maps[".data"].Update(uint32(0), uint64(77), UpdateAny); err != nil {
		t.Fatal(err)
	}
	mem, err := maps.OpenMemory(c.Maps["local"].MemoryFile())
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if got := binary.NativeEndian.Uint64(mem.Bytes()); got != 2 {
		t.Fatalf("local in the read-only mapping: %d, want 2", got)
	}
	c.Close()

	engine = EngineJIT
	c = load()
	defer c.Close()
	if got := hits(t, c.Maps["hits"]); got != 2 {
		t.Fatalf("hits in a new collection over the same files: %d, want 2", got)
	}
	if got := hits(t, c.Maps["local"]); got != 2 {
		t.Fatalf("local in a new collection over the same files: %d, want 2", got)
	}
	if got := hits(t, c.Maps[".data"]); got != 77 {
		t.Fatalf(".data in a new collection: %d, want the stored 77, not the initial 5", got)
	}
	runCount(t, c)
	if got := binary.NativeEndian.Uint64(mem.Bytes()); got != 3 {
		t.Fatalf("local in the old read-only mapping after a run of the new collection: %d, want 3", got)
	}
	if got := hits(t, c.Maps["hits"]); got != 3 {
		t.Fatalf("hits after a JIT run over the restored hash map: %d, want 3", got)
	}
}

func TestMapMemoryDirBadName(t *testing.T) {
	spec := &CollectionSpec{Maps: []*MapSpec{{Name: "..", Type: uint32(MapArray), KeySize: 4, ValueSize: 8, MaxEntries: 1}}}
	if _, err := NewCollection(spec, &CollectionOptions{MapMemoryDir: t.TempDir()}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "memory file") {
		t.Fatalf("map named ..: %v", err)
	}
	// Without the option the name is fine.
	c, err := NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
