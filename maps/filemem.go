package maps

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unsafe"
)

// Map memory files (NewInFile, OpenMemory) keep the values of an array, a
// hash map or an LPM trie in a file that the map's memory maps MAP_SHARED,
// so that every store (by a program or by user space) is in the file the
// moment it is made: a process killed with SIGKILL loses nothing, and the
// next process maps the same file again. A machine crash can lose what the
// kernel had not written back yet; fsync is not called per store. Hash maps
// and tries (keyed maps) also keep each entry's key and an in-use flag in the
// file, from which the next process rebuilds its index (filekeyed.go).
//
// Layout, host byte order:
//
//	offset 0     header, one 4096-byte page:
//	  0  [8]byte  magic "BPFHMEM\x00"
//	  8  u32      version (1)
//	  12 u32      map type (BPF_MAP_TYPE_*)
//	  16 u32      key size
//	  20 u32      value size
//	  24 u32      max entries
//	  28 u32      map flags
//	  32 u32      copies: 1 for arrays, the execution slots for per-CPU arrays
//	  36 u32      stride: value size rounded up to 8
//	  40 u64      data offset (4096)
//	  48 u64      data size: stride * max entries * copies (bloom filters: 8 + bits/8)
//	  56 u64      keyed maps: records offset R (0 for arrays)
//	  64 u32      keyed maps: record stride: 8 + key size rounded up to 8
//	  68 u32      bloom filters: hash functions (0 for other maps)
//	  72 u64      keyed maps: in-use flags offset F (0 for arrays)
//	offset 4096  values: value i of copy c at (c*max_entries + i) * stride
//	offset R     keyed maps, after the values' pages: entry i's record at
//	             R + i*record stride: u32 hash, i32 chain link (hash maps;
//	             0 in tries), the key, padded with zeros to 8 bytes
//	offset F     keyed maps, after the records' pages: entry i's in-use
//	             byte at F + i, 0 while the entry is free, else its
//	             generation, 1 to 3 (filekeyed.go)
//
// The value layout of a plain array is that of a BPF_F_MMAPABLE array mapped
// from Linux, so a reader maps the file from offset 4096 and indexes it as
// it would index the kernel's mapping.

// memFileMagic starts every map memory file.
var memFileMagic = [8]byte{'B', 'P', 'F', 'H', 'M', 'E', 'M', 0}

const (
	memFileVersion = 1
	// MemoryFileHeader is the size of a map memory file's header: the
	// values start at this offset, page aligned.
	MemoryFileHeader = 4096
	memHeaderUsed    = 80
)

// MemoryLayout describes the values a map memory file holds.
type MemoryLayout struct {
	Type                           Type
	KeySize, ValueSize, MaxEntries uint32
	Flags                          uint32
	// Copies is 1 for arrays and the number of execution slots for
	// per-CPU arrays.
	Copies uint32
	// Stride is the distance between values: ValueSize rounded up to 8.
	Stride uint32
	// RecordStride is, for hash maps and LPM tries (keyed maps), the
	// distance between entry records: 8 + KeySize rounded up to 8; 0 for
	// arrays, whose files have no records.
	RecordStride uint32
	// Hashes is, for bloom filters, the number of hash functions (1 to
	// 15); 0 for other maps. A bloom filter's data is its u64 hash seed,
	// then its bit array (filebloom.go).
	Hashes uint32
}

// Keyed reports whether the file keeps entry records and in-use flags: a
// hash map or an LPM trie.
func (l MemoryLayout) Keyed() bool { return l.RecordStride != 0 }

// RecordsOffset is the file offset of the entry records of a keyed map
// (0 for arrays).
func (l MemoryLayout) RecordsOffset() uint64 {
	if !l.Keyed() {
		return 0
	}
	return MemoryFileHeader + pageRound(l.DataSize())
}

// InUseOffset is the file offset of the in-use flags of a keyed map (0 for
// arrays).
func (l MemoryLayout) InUseOffset() uint64 {
	if !l.Keyed() {
		return 0
	}
	return l.RecordsOffset() + pageRound(uint64(l.RecordStride)*uint64(l.MaxEntries))
}

// FileSize is the size of the file: the header and each region rounded up
// to whole pages.
func (l MemoryLayout) FileSize() int64 {
	if !l.Keyed() {
		return int64(MemoryFileHeader + pageRound(l.DataSize()))
	}
	return int64(l.InUseOffset() + pageRound(uint64(l.MaxEntries)))
}

// keyedInFile reports whether t is a keyed map type that memory files hold.
func keyedInFile(t Type) bool {
	switch t {
	case Hash, PerCPUHash, LRUHash, LRUPerCPUHash, LPMTrie:
		return true
	}
	return false
}

// InFile reports whether NewInFile can keep a map of spec in a memory file
// (on Linux, see FileMemory): arrays and per-CPU arrays, and hash maps
// (plain, per-CPU, LRU) and LPM tries whose values hold no bpf_timer (a
// timer refers to process state that a file cannot bring back).
func InFile(spec Spec) bool {
	switch {
	case spec.Type == Array || spec.Type == PerCPUArray || spec.Type == BloomFilter:
		return true
	case keyedInFile(spec.Type):
		return !spec.HasTimer
	}
	return false
}

// DataSize is the size of the values: Stride * MaxEntries * Copies.
func (l MemoryLayout) DataSize() uint64 {
	if l.Type == BloomFilter {
		return 8 + bloomBits(l.MaxEntries, l.Hashes)/8
	}
	return uint64(l.Stride) * uint64(l.MaxEntries) * uint64(l.Copies)
}

// Offset returns the offset of value index of copy c within the values
// (add MemoryFileHeader for the file offset).
func (l MemoryLayout) Offset(index, c uint32) uint64 {
	return (uint64(c)*uint64(l.MaxEntries) + uint64(index)) * uint64(l.Stride)
}

func layoutOf(s Spec, slots int) MemoryLayout {
	l := MemoryLayout{Type: s.Type, KeySize: s.KeySize, ValueSize: s.ValueSize, MaxEntries: s.MaxEntries, Flags: s.Flags, Copies: 1,
		Stride: uint32(round8(uint64(s.ValueSize)))}
	if s.Type.PerCPU() {
		l.Copies = uint32(slots)
	}
	if keyedInFile(s.Type) {
		l.RecordStride = recordStride(s.KeySize)
	}
	if s.Type == BloomFilter {
		l.Hashes = bloomHashes(&s)
	}
	return l
}

// recordStride is the size of a keyed map's entry record: u32 hash, i32
// link and the key padded to 8 bytes (table.stride).
func recordStride(keySize uint32) uint32 { return 8 + uint32(round8(uint64(keySize))) }

func (l MemoryLayout) header() []byte {
	h := make([]byte, memHeaderUsed)
	copy(h, memFileMagic[:])
	ne := binary.NativeEndian
	ne.PutUint32(h[8:], memFileVersion)
	ne.PutUint32(h[12:], uint32(l.Type))
	ne.PutUint32(h[16:], l.KeySize)
	ne.PutUint32(h[20:], l.ValueSize)
	ne.PutUint32(h[24:], l.MaxEntries)
	ne.PutUint32(h[28:], l.Flags)
	ne.PutUint32(h[32:], l.Copies)
	ne.PutUint32(h[36:], l.Stride)
	ne.PutUint64(h[40:], MemoryFileHeader)
	ne.PutUint64(h[48:], l.DataSize())
	ne.PutUint64(h[56:], l.RecordsOffset())
	ne.PutUint32(h[64:], l.RecordStride)
	ne.PutUint32(h[68:], l.Hashes)
	ne.PutUint64(h[72:], l.InUseOffset())
	return h
}

// parseMemoryHeader decodes and checks a header; size is the file's size.
func parseMemoryHeader(h []byte, size int64) (MemoryLayout, error) {
	if len(h) < memHeaderUsed || !bytes.Equal(h[:8], memFileMagic[:]) {
		return MemoryLayout{}, fmt.Errorf("not a map memory file (bad magic)")
	}
	ne := binary.NativeEndian
	if v := ne.Uint32(h[8:]); v != memFileVersion {
		return MemoryLayout{}, fmt.Errorf("map memory file version %d, want %d", v, memFileVersion)
	}
	l := MemoryLayout{Type: Type(ne.Uint32(h[12:])), KeySize: ne.Uint32(h[16:]), ValueSize: ne.Uint32(h[20:]), MaxEntries: ne.Uint32(h[24:]),
		Flags: ne.Uint32(h[28:]), Copies: ne.Uint32(h[32:]), Stride: ne.Uint32(h[36:]), RecordStride: ne.Uint32(h[64:]), Hashes: ne.Uint32(h[68:])}
	wantRecords := uint32(0)
	if keyedInFile(l.Type) {
		wantRecords = recordStride(l.KeySize)
	}
	if (l.Type == BloomFilter) != (l.Hashes != 0) || l.Hashes > 15 {
		return MemoryLayout{}, fmt.Errorf("map memory file header is inconsistent")
	}
	if l.Stride != uint32(round8(uint64(l.ValueSize))) || l.Copies == 0 || l.Copies > MaxSlots ||
		ne.Uint64(h[40:]) != MemoryFileHeader || ne.Uint64(h[48:]) != l.DataSize() ||
		l.RecordStride != wantRecords || ne.Uint64(h[56:]) != l.RecordsOffset() || ne.Uint64(h[72:]) != l.InUseOffset() {
		return MemoryLayout{}, fmt.Errorf("map memory file header is inconsistent")
	}
	if want := l.FileSize(); size != want {
		return MemoryLayout{}, fmt.Errorf("map memory file has %d bytes, its header says %d", size, want)
	}
	return l, nil
}

// pageRound rounds n up to whole pages.
func pageRound(n uint64) uint64 { return (n + PageSize - 1) / PageSize * PageSize }

// unsafePointer returns the address of b[off]; off < len(b).
func unsafePointer(b []byte, off uint64) unsafe.Pointer { return unsafe.Pointer(&b[off]) }
