package maps

import (
	"sync/atomic"
	"unsafe"
)

// Hash maps and LPM tries in a map memory file (NewInFile) keep three
// regions there (layout in filemem.go): the values, one record per entry
// with its key, and one in-use byte per entry. Everything else (bucket
// heads, stripes, free lists, the LRU order, trie nodes) is process memory
// that the next process rebuilds from the records marked in use.
//
// What survives a SIGKILL is what the file held at the kill, and the order
// of the stores makes that a state the map was in:
//   - hash maps write a new entry's value, then its key and hash, then set
//     the in-use flag, then link it (table.link); a delete or an eviction
//     clears the flag before the element goes back to the free stack
//     (table.unlink). An acknowledged insert (the helper or Update returned)
//     has its flag set; an entry whose flag is set has its whole key and
//     value. An update of an existing key writes the value in place, as
//     programs do through lookup pointers.
//   - tries write a new prefix's value and key record, then set the flag,
//     then link the node; a delete clears the flag first.
//
// All of it is on one process's stores in program order, which a SIGKILL
// does not reorder (the stores are in the page cache, shared with the
// next process). A key is in use at most once: writers of a key serialise
// on its bucket lock (the trie's lock), and a delete clears the old flag
// before an insert can set a new one. restore still drops a second copy
// of a key, and treats flag bytes other than 0 and 1 as 0, so that a file
// damaged by other means cannot break the map's invariants.

// entryMemory is where a keyed map keeps its values, entry records and
// in-use flags in a map memory file.
type entryMemory struct {
	values, records []byte
	inUse           []bool
}

// fileEntries slices the regions of a keyed map out of its file's mapping
// and normalises the in-use flags to 0 or 1 (a Go bool must hold one of
// those).
func fileEntries(whole []byte, l MemoryLayout) *entryMemory {
	data := MemoryFileHeader + l.DataSize()
	recs := l.RecordsOffset()
	recEnd := recs + uint64(l.RecordStride)*uint64(l.MaxEntries)
	flags := whole[l.InUseOffset() : l.InUseOffset()+uint64(l.MaxEntries)]
	for i, f := range flags {
		if f > 1 {
			flags[i] = 0
		}
	}
	return &entryMemory{
		values:  whole[MemoryFileHeader:data:data],
		records: whole[recs:recEnd:recEnd],
		inUse:   unsafe.Slice((*bool)(unsafe.Pointer(unsafe.SliceData(flags))), len(flags)),
	}
}

// restore links the elements a reused memory file marks in use into the
// (empty) table and rebuilds the free stack and the LRU order (element
// order: the file does not keep recency). A map is not shared yet.
func (h *HashMap) restore() {
	t := &h.t
	key := make([]byte, t.keySize)
	for e := int32(0); e < t.n; e++ {
		if !t.inChain[e] {
			continue
		}
		t.inChain[e] = false
		copy(key, t.key(e))
		hv := t.hash(key)
		b := hv & t.mask
		if t.find(b, hv, key) >= 0 {
			continue // a second copy of a key (see above): dropped
		}
		t.link(b, hv, e, key)
		if h.lru {
			h.pushFront(e)
		}
	}
	t.free = t.free[:0]
	for e := t.n - 1; e >= 0; e-- {
		if !t.inChain[e] {
			t.free = append(t.free, e)
		}
	}
	copies := 1
	if h.percpu {
		copies = h.slots
	}
	freeSpinLocks(h.vals, h.mem, h.vstride, int(t.n)*copies)
}

// record writes the key of value slot v and marks it in use, in a memory
// file; the caller holds mu and has stored the value.
func (t *LPMTrieMap) record(v int32, key []byte) {
	if t.recs == nil {
		return
	}
	off := uintptr(v)*t.recStride + 8
	copy(t.recs[off:off+uintptr(len(key))], key)
	t.inUse[v] = true
}

// restore inserts the prefixes a reused memory file marks in use into the
// (empty) trie, keeping their value slots, and rebuilds the free slots. A
// record whose key is not a valid prefix, or a second copy of a prefix,
// is dropped. A map is not shared yet.
func (t *LPMTrieMap) restore() {
	ks := uintptr(t.dataSize + 4)
	for v := range int32(len(t.inUse)) {
		if !t.inUse[v] {
			continue
		}
		off := uintptr(v)*t.recStride + 8
		key := t.recs[off : off+ks]
		plen, data, ok := t.parseKey(key)
		if !ok || t.put(plen, data, key, nil, uint64(UpdateNoExist), v) != 0 {
			t.inUse[v] = false
		}
	}
	t.vfree = t.vfree[:0]
	for v := int32(len(t.inUse)) - 1; v >= 0; v-- {
		if !t.inUse[v] {
			t.vfree = append(t.vfree, v)
		}
	}
	freeSpinLocks(t.vals, t.mem, t.vstride, len(t.inUse))
}

// freeSpinLocks releases the bpf_spin_lock of each of n values stride
// bytes apart in mem: a process killed while holding one left it taken.
func freeSpinLocks(v valueOps, mem []byte, stride uintptr, n int) {
	if !v.hasLock {
		return
	}
	for i := range n {
		atomic.StoreUint32((*uint32)(unsafe.Pointer(&mem[uintptr(i)*stride+uintptr(v.lockOff)])), 0)
	}
}
