package maps

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func key32(i uint32) []byte { return binary.NativeEndian.AppendUint32(nil, i) }

// TestNewInFileKeepsValues stores through the API and through a value
// pointer (as programs do), drops the map without any flush, and maps the
// same file again: the values are there and the file is reported reused.
func TestNewInFileKeepsValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counts")
	spec := Spec{Name: "counts", Type: Array, KeySize: 4, ValueSize: 12, MaxEntries: 5, Flags: FlagMmapable}
	m, reused, err := NewInFile(spec, 2, path)
	if err != nil {
		t.Fatal(err)
	}
	if reused {
		t.Fatal("a new file is reported reused")
	}
	if err := m.Update(key32(1), []byte("hello world!"), UpdateAny); err != nil {
		t.Fatal(err)
	}
	p := m.(*ArrayMap).ValuePtr(4, 0)
	storeBytes(p, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	m = nil

	m2, reused, err := NewInFile(spec, 2, path)
	if err != nil {
		t.Fatal(err)
	}
	if !reused {
		t.Fatal("an existing file is not reported reused")
	}
	v := make([]byte, 12)
	if err := m2.Lookup(key32(1), v); err != nil || string(v) != "hello world!" {
		t.Fatalf("value 1 = %q, %v", v, err)
	}
	if err := m2.Lookup(key32(4), v); err != nil || !bytes.Equal(v, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) {
		t.Fatalf("value 4 = %v, %v", v, err)
	}

	// A separate read-only mapping sees the values and later stores.
	mem, err := OpenMemory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if l := mem.Layout(); l.Type != Array || l.ValueSize != 12 || l.Stride != 16 || l.MaxEntries != 5 || l.Copies != 1 {
		t.Fatalf("layout %+v", l)
	}
	if got := mem.Bytes()[16 : 16+12]; string(got) != "hello world!" {
		t.Fatalf("mapped value 1 = %q", got)
	}
	if err := m2.Update(key32(2), []byte("second value"), UpdateAny); err != nil {
		t.Fatal(err)
	}
	if got, err := mem.Value(2, 0); err != nil || string(got) != "second value" {
		t.Fatalf("mapped value 2 = %q, %v", got, err)
	}
	if _, err := mem.Value(5, 0); err == nil {
		t.Fatal("value 5 of 5 entries is not an error")
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() != MemoryFileHeader+PageSize {
		t.Fatalf("file size %v, %v", st, err)
	}
}

func TestNewInFilePerCPU(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pc")
	spec := Spec{Name: "pc", Type: PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 3}
	m, _, err := NewInFile(spec, 4, path)
	if err != nil {
		t.Fatal(err)
	}
	storeBytes(m.(*ArrayMap).ValuePtr(2, 3), []byte{7, 0, 0, 0, 0, 0, 0, 0})
	mem, err := OpenMemory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if got, err := mem.Value(2, 3); err != nil || got[0] != 7 {
		t.Fatalf("slot 3 value 2 = %v, %v", got, err)
	}
	if off := mem.Layout().Offset(2, 3); off != (3*3+2)*8 {
		t.Fatalf("offset %d", off)
	}
	// Another slot count is another layout: an error, not a silent reset.
	if _, _, err := NewInFile(spec, 2, path); err == nil || !strings.Contains(err.Error(), "remove the file") {
		t.Fatalf("slots changed: %v", err)
	}
}

func TestNewInFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := NewInFile(Spec{Name: "q", Type: Queue, ValueSize: 4, MaxEntries: 1}, 1, filepath.Join(dir, "q")); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("queue: %v", err)
	}
	timers := Spec{Name: "h", Type: Hash, KeySize: 4, ValueSize: 16, MaxEntries: 1, HasTimer: true}
	if _, _, err := NewInFile(timers, 1, filepath.Join(dir, "h")); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("hash with a timer: %v", err)
	}
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, bytes.Repeat([]byte("not a map memory file "), 400), 0o600)
	spec := Spec{Name: "a", Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	if _, _, err := NewInFile(spec, 1, junk); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Fatalf("junk file: %v", err)
	}
	if _, err := OpenMemory(junk); err == nil {
		t.Fatal("OpenMemory of junk succeeded")
	}
	// A header without its full size (torn) is refused by readers.
	short := filepath.Join(dir, "short")
	if _, _, err := NewInFile(spec, 1, short); err != nil {
		t.Fatal(err)
	}
	os.Truncate(short, MemoryFileHeader)
	if _, err := OpenMemory(short); err == nil {
		t.Fatal("OpenMemory of a truncated file succeeded")
	}
	// An empty file (created, header never written) starts zeroed.
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	if _, reused, err := NewInFile(spec, 1, empty); err != nil || reused {
		t.Fatalf("empty file: reused %v, %v", reused, err)
	}
}

// TestSyncMemory: SyncMemory succeeds for a file-backed array (msync of its
// mapping) and is a no-op for one in process memory.
func TestSyncMemory(t *testing.T) {
	spec := Spec{Name: "s", Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 2}
	m, _, err := NewInFile(spec, 1, filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(key32(1), []byte{1, 2, 3, 4, 5, 6, 7, 8}, UpdateAny); err != nil {
		t.Fatal(err)
	}
	if err := m.(*ArrayMap).SyncMemory(); err != nil {
		t.Fatal(err)
	}
	plain, err := New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.(*ArrayMap).SyncMemory(); err != nil {
		t.Fatal(err)
	}
}
