package maps

import (
	"encoding/binary"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNewInFileBloom: a bloom filter in a memory file finds, after the
// file is opened again, the values pushed before (its seed is in the file).
func TestNewInFileBloom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seen")
	spec := Spec{Name: "seen", Type: BloomFilter, ValueSize: 8, MaxEntries: 1000, MapExtra: 3}
	m, reused, err := NewInFile(spec, 1, path)
	if err != nil || reused {
		t.Fatalf("NewInFile: %v, reused %v", err, reused)
	}
	f := m.(*BloomFilterMap)
	val := func(i uint64) []byte { return binary.NativeEndian.AppendUint64(nil, i*0x9e3779b97f4a7c15) }
	for i := uint64(0); i < 500; i++ {
		if r := f.PushElem(val(i), 0); r != 0 {
			t.Fatalf("push %d: %d", i, r)
		}
	}
	seed := f.seed
	m, f = nil, nil
	runtime.GC()

	m2, reused, err := NewInFile(spec, 1, path)
	if err != nil || !reused {
		t.Fatalf("reopening: %v, reused %v", err, reused)
	}
	f2 := m2.(*BloomFilterMap)
	if f2.seed != seed {
		t.Fatalf("seed %#x after reopening, was %#x", f2.seed, seed)
	}
	for i := uint64(0); i < 500; i++ {
		if r := f2.PeekElem(val(i)); r != 0 {
			t.Fatalf("value %d pushed before reopening: peek %d", i, r)
		}
	}
	absent := 0
	for i := uint64(1000); i < 2000; i++ {
		if f2.PeekElem(val(i)) != 0 {
			absent++
		}
	}
	if absent < 900 {
		t.Fatalf("only %d of 1000 values never pushed are absent", absent)
	}
	mem, err := OpenMemory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if l := mem.Layout(); l.Hashes != 3 || binary.NativeEndian.Uint64(mem.Bytes()) != seed || uint64(len(mem.Bytes())) != 8+bloomBits(1000, 3)/8 {
		t.Fatalf("layout %+v, %d bytes", l, len(mem.Bytes()))
	}
	if _, err := mem.Value(0, 0); err == nil {
		t.Fatal("Value of a bloom filter: no error")
	}
	// Another number of hash functions is another layout.
	spec.MapExtra = 4
	if _, _, err := NewInFile(spec, 1, path); err == nil || !strings.Contains(err.Error(), "remove the file") {
		t.Fatalf("another hash count: %v", err)
	}
}
