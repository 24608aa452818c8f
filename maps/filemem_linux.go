package maps

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// FileMemory reports whether NewInFile and OpenMemory are supported: on
// Linux. Elsewhere maps keep their values in anonymous memory only.
const FileMemory = true

// NewInFile is New for a map whose memory lives in the map memory file at
// path (layout in filemem.go), mapped MAP_SHARED: what is stored in the map
// is in the file at once and survives the process being killed. Arrays and
// per-CPU arrays keep their values there; hash maps (plain, per-CPU, LRU)
// and LPM tries also keep each entry's key record and in-use flag, and
// rebuild their index from them when the file is reused (see InFile for
// the types). A file that exists with the same layout is reused and its
// contents are the map's (reused is true); a missing or empty file is
// created (mode 0600) zeroed; a file with another layout is an error, so
// that a changed object never reads another map's values. Other types are
// an ErrNotSupported error.
//
// The mapping is released when the map is no longer reachable; pointers into
// the values (ValuePtr, ValueMemory) must not outlive the map.
func NewInFile(spec Spec, slots int, path string) (m Map, reused bool, err error) {
	spec, slots, err = prepare(spec, slots)
	if err != nil {
		return nil, false, err
	}
	if !InFile(spec) {
		return nil, false, opError(spec.Name, "", EOPNOTSUPP, fmt.Sprintf("memory files are for arrays, hash maps, LPM tries without timers and bloom filters, not %s", spec.Type))
	}
	l := layoutOf(spec, slots)
	whole, reused, err := mapMemoryFile(path, l)
	if err != nil {
		return nil, false, fmt.Errorf("map %q: memory file %s: %w", spec.Name, path, err)
	}
	b := base{spec: spec, slots: slots, file: whole}
	values := whole[MemoryFileHeader : MemoryFileHeader+l.DataSize() : MemoryFileHeader+l.DataSize()]
	switch {
	case spec.Type == BloomFilter:
		f := newBloomIn(b, values, reused)
		m = f
		unmapWhenUnreachable(f, whole)
	case spec.Type == LPMTrie:
		t := newLPMIn(b, fileEntries(whole, l))
		if reused {
			t.restore()
		}
		m = t
		unmapWhenUnreachable(t, whole)
	case l.Keyed():
		h := newHashIn(b, fileEntries(whole, l))
		if reused {
			h.restore()
		}
		m = h
		unmapWhenUnreachable(h, whole)
	default:
		a := newArrayIn(b, func(n uint64) []byte { return values })
		if reused {
			freeSpinLocks(a.vals, a.mem, a.stride, len(a.mem)/int(a.stride))
		}
		m = a
		unmapWhenUnreachable(a, whole)
	}
	return m, reused, nil
}

// unmapWhenUnreachable unmaps a map's file when the map is unreachable.
func unmapWhenUnreachable[T any](m *T, whole []byte) {
	runtime.AddCleanup(m, func(b []byte) { unix.Munmap(b) }, whole)
}

// SyncMemory writes the memory of a map kept in a map memory file
// (NewInFile) to the file's storage and waits for it (msync MS_SYNC), so
// that it would survive a machine crash too; without a file it does
// nothing.
func (b *base) SyncMemory() error {
	if b.file == nil {
		return nil
	}
	if err := unix.Msync(b.file, unix.MS_SYNC); err != nil {
		return fmt.Errorf("map %q: msync: %w", b.spec.Name, err)
	}
	return nil
}

// mapMemoryFile opens or creates the file at path for layout l and maps it
// read-write and shared.
func mapMemoryFile(path string, l MemoryLayout) ([]byte, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	want := l.FileSize()
	hdr := l.header()
	reused := false
	if st.Size() > 0 {
		if st.Size() < MemoryFileHeader {
			return nil, false, fmt.Errorf("not a map memory file (%d bytes)", st.Size())
		}
		got := make([]byte, memHeaderUsed)
		if _, err := f.ReadAt(got, 0); err != nil {
			return nil, false, fmt.Errorf("reading the header: %w", err)
		}
		switch {
		case bytes.Equal(got, hdr) && st.Size() == want:
			reused = true
		case bytes.Equal(got, make([]byte, memHeaderUsed)):
			// Created, but the process died before the header was
			// written: nothing was ever stored.
		default:
			have, perr := parseMemoryHeader(got, st.Size())
			if perr != nil {
				return nil, false, perr
			}
			return nil, false, fmt.Errorf("holds a %s with %d-byte values, %d entries, %d copies and flags %#x; the map is a %s with %d-byte values, %d entries, %d copies and flags %#x (remove the file to start empty)",
				have.Type, have.ValueSize, have.MaxEntries, have.Copies, have.Flags, l.Type, l.ValueSize, l.MaxEntries, l.Copies, l.Flags)
		}
	}
	if !reused {
		if err := f.Truncate(0); err != nil {
			return nil, false, err
		}
		if err := f.Truncate(want); err != nil {
			return nil, false, err
		}
		// The header goes in last and is synced: a file with a header
		// has its full size.
		if err := f.Sync(); err != nil {
			return nil, false, err
		}
		if _, err := f.WriteAt(hdr, 0); err != nil {
			return nil, false, err
		}
		if err := f.Sync(); err != nil {
			return nil, false, err
		}
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(want), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, false, fmt.Errorf("mmap: %w", err)
	}
	return b, reused, nil
}

// MappedMemory is a read-only mapping of a map memory file: another process's
// view of the values of an array that a bpfhost process keeps in the file,
// as cilium/ebpf's Map.Memory is of a BPF_F_MMAPABLE array.
type MappedMemory struct {
	layout MemoryLayout
	whole  []byte
}

// OpenMemory maps the map memory file at path PROT_READ. The values change
// under the reader as the owning process stores them; read them with
// word-sized loads for untorn words.
func OpenMemory(path string) (*MappedMemory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < MemoryFileHeader {
		return nil, fmt.Errorf("%s: not a map memory file (%d bytes)", path, st.Size())
	}
	h := make([]byte, memHeaderUsed)
	if _, err := f.ReadAt(h, 0); err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", path, err)
	}
	l, err := parseMemoryHeader(h, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	return &MappedMemory{layout: l, whole: b}, nil
}

// Layout describes the values.
func (m *MappedMemory) Layout() MemoryLayout { return m.layout }

// Bytes returns the values (Layout().DataSize() bytes), read-only: writing
// faults. They are valid until Close.
func (m *MappedMemory) Bytes() []byte {
	n := m.layout.DataSize()
	return m.whole[MemoryFileHeader : MemoryFileHeader+n : MemoryFileHeader+n]
}

// Value copies value index of copy c (0 for arrays, the slot for per-CPU
// arrays) to a new slice.
func (m *MappedMemory) Value(index, c uint32) ([]byte, error) {
	if m.whole == nil {
		return nil, errors.New("memory is closed")
	}
	if m.layout.Type == BloomFilter {
		return nil, fmt.Errorf("a bloom filter has no values (Bytes holds its seed and bits)")
	}
	if index >= m.layout.MaxEntries || c >= m.layout.Copies {
		return nil, fmt.Errorf("value %d of copy %d: out of range (%d entries, %d copies)", index, c, m.layout.MaxEntries, m.layout.Copies)
	}
	off := m.layout.Offset(index, c)
	out := make([]byte, m.layout.ValueSize)
	loadBytes(out, unsafePointer(m.Bytes(), off))
	return out, nil
}

// Entry returns the key of entry index of a hash map or LPM trie and
// whether the entry is in use (holds that key); its value is Value(index,
// c) for hash maps. While an update replaces a key's entry, two entries
// can hold the key for a moment (docs/map-memory.md). For a trie, index is a value slot: Value(index, 0) is
// the value of the prefix the key names. Arrays have no entries: an error.
func (m *MappedMemory) Entry(index uint32) (key []byte, inUse bool, err error) {
	if m.whole == nil {
		return nil, false, errors.New("memory is closed")
	}
	if !m.layout.Keyed() {
		return nil, false, fmt.Errorf("a %s has no entry records", m.layout.Type)
	}
	if index >= m.layout.MaxEntries {
		return nil, false, fmt.Errorf("entry %d: out of range (%d entries)", index, m.layout.MaxEntries)
	}
	if g := m.whole[m.layout.InUseOffset()+uint64(index)]; g == 0 || g > 3 {
		return nil, false, nil
	}
	rec := m.layout.RecordsOffset() + uint64(index)*uint64(m.layout.RecordStride)
	key = make([]byte, m.layout.KeySize)
	loadBytes(key, unsafePointer(m.whole, rec+8))
	return key, true, nil
}

// Close unmaps the memory.
func (m *MappedMemory) Close() error {
	if m.whole == nil {
		return nil
	}
	err := unix.Munmap(m.whole)
	m.whole = nil
	return err
}
