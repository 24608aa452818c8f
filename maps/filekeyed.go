package maps

import (
	"sync/atomic"
	"unsafe"
)

// Hash maps and LPM tries in a map memory file (NewInFile) keep three
// regions there (layout in filemem.go): the values, one record per entry
// with its key, and one in-use byte per entry: 0 while the entry is free,
// else the entry's generation, 1 to 3 (nextGen). Everything else (bucket
// heads, stripes, free lists, the LRU order, trie nodes) is process memory
// that the next process rebuilds from the records marked in use.
//
// What survives a SIGKILL is what the file held at the kill, and the order
// of the stores makes that a state the map was in:
//   - hash maps write a new entry's value, then its key and hash, then set
//     the in-use byte, then link it (table.link); a delete or an eviction
//     clears the byte before the element goes back to the free stack
//     (table.unlink). An acknowledged insert (the helper or Update returned)
//     has its byte set; an entry whose byte is set has its whole key and
//     value.
//   - an update of a key already in the map does the same with a free
//     entry, whose generation is the next of the old entry's, and only then
//     clears the old entry's byte (table.replace). A kill in between leaves
//     two entries in use with one key; restore keeps the one whose
//     generation follows the other's: the new value, complete. Where the
//     value is written in place instead (one slot of a per-CPU map, with
//     BPF_F_LOCK, a full hash map: HashMap.update) a kill in the middle of
//     the copy can leave that value torn.
//   - tries write a new prefix's value and key record, then set the byte,
//     then link the node; a delete clears the byte first. An update of a
//     prefix in the trie takes a free value slot the same way, unless the
//     trie is full (LPMTrieMap.put).
//
// All of it is on one process's stores in program order, which a SIGKILL
// does not reorder (the stores are in the page cache, shared with the
// next process). Apart from a replacement in flight, a key is in use at
// most once: writers of a key serialise on its bucket lock (the trie's
// lock), and a delete clears the old byte before an insert can set a new
// one. restore drops any other second copy of a key (keeping the first),
// and treats bytes above 3 as 0, so that a file damaged by other means
// cannot break the map's invariants.

// entryMemory is where a keyed map keeps its values, entry records and
// in-use flags in a map memory file.
type entryMemory struct {
	values, records []byte
	inUse           []uint8
}

// fileEntries slices the regions of a keyed map out of its file's mapping
// and clears in-use bytes that are not a generation.
func fileEntries(whole []byte, l MemoryLayout) *entryMemory {
	data := MemoryFileHeader + l.DataSize()
	recs := l.RecordsOffset()
	recEnd := recs + uint64(l.RecordStride)*uint64(l.MaxEntries)
	flags := whole[l.InUseOffset() : l.InUseOffset()+uint64(l.MaxEntries)]
	for i, f := range flags {
		if f > 3 {
			flags[i] = 0
		}
	}
	return &entryMemory{
		values:  whole[MemoryFileHeader:data:data],
		records: whole[recs:recEnd:recEnd],
		inUse:   flags,
	}
}

// restore links the elements a reused memory file marks in use into the
// (empty) table and rebuilds the free stack and the LRU order (element
// order: the file does not keep recency). Of two elements with one key,
// the replacement (the later generation) stays. A map is not shared yet.
func (h *HashMap) restore() {
	t := &h.t
	key := make([]byte, t.keySize)
	for e := int32(0); e < t.n; e++ {
		gen := t.inChain[e]
		if gen == 0 {
			continue
		}
		t.inChain[e] = 0
		copy(key, t.key(e))
		hv := t.hash(key)
		b := hv & t.mask
		if old := t.find(b, hv, key); old >= 0 {
			if gen != nextGen(t.inChain[old]) {
				continue // the older copy, or damage: dropped
			}
			t.unlink(b, old) // a replacement killed before it retired old
			if h.lru {
				h.unlist(old)
			}
		}
		t.link(b, hv, e, key, gen)
		if h.lru {
			h.pushFront(e)
		}
	}
	t.free = t.free[:0]
	for e := t.n - 1; e >= 0; e-- {
		if t.inChain[e] == 0 {
			t.free = append(t.free, e)
		}
	}
	copies := 1
	if h.percpu {
		copies = h.slots
	}
	freeSpinLocks(h.vals, h.mem, h.vstride, int(t.n)*copies)
}

// record writes the key of value slot v and marks it in use as generation
// gen, in a memory file; the caller holds mu and has stored the value.
func (t *LPMTrieMap) record(v int32, key []byte, gen uint8) {
	if t.recs == nil {
		return
	}
	off := uintptr(v)*t.recStride + 8
	copy(t.recs[off:off+uintptr(len(key))], key)
	t.inUse[v] = gen
}

// restore inserts the prefixes a reused memory file marks in use into the
// (empty) trie, keeping their value slots, and rebuilds the free slots. A
// record whose key is not a valid prefix is dropped; of two records of
// one prefix, the replacement (the later generation) stays, else the
// first. A map is not shared yet.
func (t *LPMTrieMap) restore() {
	ks := uintptr(t.dataSize + 4)
	key := func(v int32) []byte {
		off := uintptr(v)*t.recStride + 8
		return t.recs[off : off+ks]
	}
	keep := map[string]int32{}
	var order []string
	for v := range int32(len(t.inUse)) {
		if t.inUse[v] == 0 {
			continue
		}
		if _, _, ok := t.parseKey(key(v)); !ok {
			t.inUse[v] = 0
			continue
		}
		k := string(key(v))
		old, dup := keep[k]
		switch {
		case !dup:
			keep[k] = v
			order = append(order, k)
		case t.inUse[v] == nextGen(t.inUse[old]):
			t.inUse[old] = 0
			keep[k] = v
		default:
			t.inUse[v] = 0
		}
	}
	for _, k := range order {
		v := keep[k]
		plen, data, _ := t.parseKey(key(v))
		if t.put(plen, data, key(v), nil, uint64(UpdateNoExist), v) != 0 {
			t.inUse[v] = 0
		}
	}
	t.vfree = t.vfree[:0]
	for v := int32(len(t.inUse)) - 1; v >= 0; v-- {
		if t.inUse[v] == 0 {
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
