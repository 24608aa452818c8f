package maps

import (
	"math/rand/v2"
	"sync/atomic"
	"unsafe"
)

// HashMap is BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH.
// All MaxEntries elements are preallocated (also with BPF_F_NO_PREALLOC,
// which only changes when Linux allocates); deleted elements are reused.
// An update of an existing key fills a free element and swaps it in, as
// Linux does (in place for one slot of a per-CPU map, with BPF_F_LOCK, and
// when the map is full: see update). Program-side
// lookups (LookupPtr) take no lock unless a writer is changing the chain
// they walk (a seqlock per lock stripe); generated code can make the same
// lookup from the map's description (Inline).
//
// LRU maps evict when an insert finds no free element. Program-side
// lookups set a reference bit (user-space lookups do not, like Linux's
// lookup_elem_sys); eviction takes the least recently inserted or updated
// element, giving referenced ones a second chance (CLOCK). Linux's LRU is
// also approximate, with per-CPU lists and reference bits; BPF_F_NO_COMMON_LRU
// is accepted and uses the one common list.
type HashMap struct {
	base
	t       table
	vals    valueOps
	vstride uintptr
	percpu  bool
	lru     bool
	mem     []byte // values, [slot][element] for per-CPU maps
	lruList        // LRU maps only; guarded by t.mu
}

func newHash(b base) *HashMap { return newHashIn(b, nil) }

// newHashIn is newHash with the values, element records and in-use flags
// in mem (a map memory file's), or in process memory if mem is nil.
func newHashIn(b base, mem *entryMemory) *HashMap {
	s := &b.spec
	seed := rand.Uint64()
	if s.Flags&FlagZeroSeed != 0 {
		seed = 0
	}
	h := &HashMap{
		base:    b,
		vals:    newValueOps(s),
		vstride: uintptr(round8(uint64(s.ValueSize))),
		percpu:  s.Type.PerCPU(),
		lru:     s.Type == LRUHash || s.Type == LRUPerCPUHash,
	}
	if mem == nil {
		copies := uint64(1)
		if h.percpu {
			copies = uint64(b.slots)
		}
		h.t.init(s.MaxEntries, s.KeySize, seed)
		h.mem = slab(uint64(h.vstride) * uint64(s.MaxEntries) * copies)
	} else {
		h.t.initIn(s.MaxEntries, s.KeySize, seed, mem.records, mem.inUse)
		h.mem = mem.values
	}
	if h.lru {
		h.lruList = newLRUList(s.MaxEntries)
	}
	return h
}

// ptr returns element e's value for slot.
func (h *HashMap) ptr(e int32, slot int) unsafe.Pointer {
	off := uintptr(e) * h.vstride
	if h.percpu {
		off += uintptr(slot) * uintptr(h.t.n) * h.vstride
	}
	return unsafe.Pointer(&h.mem[off])
}

// ValueMemory returns the memory of all values.
func (h *HashMap) ValueMemory() []byte { return h.mem }

// lookup finds key and returns its element or -1: without a lock unless
// a writer gets in the way (table.findFast), then under a read lock.
func (h *HashMap) lookup(key []byte) int32 {
	hv := h.t.hash(key)
	b := hv & h.t.mask
	if e, ok := h.t.findFast(b, hv, key); ok {
		return e
	}
	l := h.t.lock(b)
	l.RLock()
	e := h.t.find(b, hv, key)
	l.RUnlock()
	return e
}

// LookupPtr returns the value of key (slot's value for per-CPU maps) or
// nil. LRU maps mark the element referenced.
func (h *HashMap) LookupPtr(key []byte, slot int) unsafe.Pointer {
	if len(key) != h.t.keySize || (h.percpu && uint(slot) >= uint(h.slots)) {
		return nil
	}
	e := h.lookup(key)
	if e < 0 {
		return nil
	}
	if h.lru {
		h.touch(e)
	}
	if !h.percpu {
		slot = 0
	}
	return h.ptr(e, slot)
}

// LookupPercpuElem returns the value of key on slot cpu.
func (h *HashMap) LookupPercpuElem(key []byte, cpu int) unsafe.Pointer {
	if !h.percpu {
		return nil
	}
	return h.LookupPtr(key, cpu)
}

// UpdateElem creates or replaces key's value; per-CPU maps write slot's
// value (a new element's other slots start zeroed).
func (h *HashMap) UpdateElem(key, value []byte, flags uint64, slot int) int64 {
	if r := h.progWrite(); r != 0 {
		return r
	}
	if len(key) != h.t.keySize || len(value) < h.vals.size || (h.percpu && uint(slot) >= uint(h.slots)) {
		return EINVAL.Ret()
	}
	value = value[:h.vals.size]
	return h.update(key, flags, !h.percpu, func(e int32, fresh bool) {
		if !h.percpu {
			h.vals.put(h.ptr(e, 0), value, flags)
			return
		}
		if fresh {
			for s := 0; s < h.slots; s++ {
				if s != slot {
					h.vals.zero(h.ptr(e, s))
				}
			}
		}
		h.vals.store(h.ptr(e, slot), value)
	})
}

// update is the insert-or-replace logic both sides share; write fills the
// value of element e (fresh: e was just allocated, and is not linked yet)
// under the bucket lock. whole says that write fills the entire value
// (every slot's of a per-CPU map); a key in the map then gets a fresh
// element that replaces its old one (swap), as Linux replaces the element
// of a hash or LRU hash map, so that neither a lookup nor a map memory file
// after a SIGKILL ever sees a value half written. The value is written in
// place, as Linux writes it, with BPF_F_LOCK (under the value's lock),
// for one slot of a per-CPU map, and when a map other than an LRU map is
// full (Linux keeps a spare element per CPU for this; see
// docs/decisions/0021-keyed-map-memory-files.md).
func (h *HashMap) update(key []byte, flags uint64, whole bool, write func(e int32, fresh bool)) int64 {
	if r := h.updateFlags(flags); r != 0 {
		return r
	}
	op := flags &^ uint64(UpdateLock)
	swap := whole && flags&uint64(UpdateLock) == 0
	hv := h.t.hash(key)
	b := hv & h.t.mask
	l := h.t.lock(b)
	var claimed int32 = -1 // an element evicted for this update
	for {
		l.Lock()
		e := h.t.find(b, hv, key)
		if e >= 0 {
			if op == uint64(UpdateNoExist) {
				l.Unlock()
				h.giveBack(claimed)
				return EEXIST.Ret()
			}
			if swap {
				ne := claimed
				if ne < 0 {
					h.t.mu.Lock()
					ne = h.t.alloc()
					h.t.mu.Unlock()
				}
				if ne < 0 && h.lru {
					// Linux's LRU update takes an element, evicting
					// if it must, before it looks the key up.
					l.Unlock()
					if claimed = h.evict(); claimed < 0 {
						return E2BIG.Ret()
					}
					continue
				}
				if ne >= 0 {
					write(ne, true)
					h.t.replace(b, hv, e, ne, key)
					h.t.mu.Lock()
					if !h.lru {
						h.t.release(e)
					} else {
						if h.unlist(e) { // else an eviction claimed it
							h.t.release(e)
						}
						h.pushFront(ne)
					}
					h.t.mu.Unlock()
					l.Unlock()
					return 0
				}
			}
			write(e, false)
			if h.lru {
				h.t.mu.Lock()
				h.moveToFront(e)
				h.t.mu.Unlock()
			}
			l.Unlock()
			h.giveBack(claimed)
			return 0
		}
		if op == uint64(UpdateExist) {
			l.Unlock()
			h.giveBack(claimed)
			return ENOENT.Ret()
		}
		e = claimed
		if e < 0 {
			h.t.mu.Lock()
			e = h.t.alloc()
			h.t.mu.Unlock()
		}
		if e < 0 && h.lru {
			// Evicting locks the victim's bucket: drop ours first and
			// look again afterwards, the key may have appeared.
			l.Unlock()
			if claimed = h.evict(); claimed < 0 {
				return E2BIG.Ret()
			}
			continue
		}
		if e < 0 {
			l.Unlock()
			return E2BIG.Ret()
		}
		// The value goes in before the element is linked: lock-free
		// readers may find it as soon as it is.
		write(e, true)
		h.t.link(b, hv, e, key, 1)
		if h.lru {
			h.t.mu.Lock()
			h.pushFront(e)
			h.t.mu.Unlock()
		}
		l.Unlock()
		return 0
	}
}

// giveBack frees an element evicted for an insert that did not need it.
func (h *HashMap) giveBack(e int32) {
	if e >= 0 {
		h.t.mu.Lock()
		h.t.release(e)
		h.t.mu.Unlock()
	}
}

// remove deletes key; out, if not nil, receives the value first (user
// space's layout for per-CPU maps). It returns 0 or -ENOENT.
func (h *HashMap) remove(key []byte, out []byte) int64 {
	hv := h.t.hash(key)
	b := hv & h.t.mask
	l := h.t.lock(b)
	l.Lock()
	e := h.t.find(b, hv, key)
	if e < 0 {
		l.Unlock()
		return ENOENT.Ret()
	}
	if out != nil {
		h.copyOut(e, out)
	}
	h.t.unlink(b, e)
	h.t.mu.Lock()
	if !h.lru || h.unlist(e) {
		h.t.release(e)
	}
	h.t.mu.Unlock()
	l.Unlock()
	return 0
}

// DeleteElem removes key.
func (h *HashMap) DeleteElem(key []byte) int64 {
	if r := h.progWrite(); r != 0 {
		return r
	}
	if len(key) != h.t.keySize {
		return EINVAL.Ret()
	}
	return h.remove(key, nil)
}

// ForEach calls fn for every element; per-CPU maps pass slot's value.
func (h *HashMap) ForEach(slot int, fn func(key, value unsafe.Pointer) bool) int64 {
	return h.ForEachCharged(slot, nil, fn)
}

// ForEachCharged is ForEach that also reports the buckets it visits, empty
// ones included, to charge (every few hundred and at the end), and stops
// when charge returns false: what bpf_for_each_map_elem charges a run for.
func (h *HashMap) ForEachCharged(slot int, charge func(buckets uint64) bool, fn func(key, value unsafe.Pointer) bool) int64 {
	if h.percpu && uint(slot) >= uint(h.slots) {
		return EINVAL.Ret()
	}
	if !h.percpu {
		slot = 0
	}
	return h.t.forEach(charge, func(e int32) bool { return fn(h.t.keyPtr(e), h.ptr(e, slot)) })
}

func (h *HashMap) copyOut(e int32, out []byte) {
	if !h.percpu {
		h.vals.load(out, h.ptr(e, 0))
		return
	}
	copyOutPerCPU(h.vals, out, h.vstride, h.slots, func(s int) unsafe.Pointer { return h.ptr(e, s) })
}

// Lookup copies the value of key.
func (h *HashMap) Lookup(key, valueOut []byte) error {
	return h.lookupUser(key, valueOut, 0)
}

// LookupWithFlags is Lookup with BPF_F_LOCK: the copy is made under the
// value's spin lock.
func (h *HashMap) LookupWithFlags(key, valueOut []byte, flags UpdateFlags) error {
	return h.lookupUser(key, valueOut, flags)
}

func (h *HashMap) lookupUser(key, valueOut []byte, flags UpdateFlags) error {
	const op = "lookup"
	if err := h.userRead(op); err != nil {
		return err
	}
	if err := h.checkKey(op, key); err != nil {
		return err
	}
	if err := h.checkValue(op, valueOut); err != nil {
		return err
	}
	if flags&^UpdateLock != 0 || (flags&UpdateLock != 0 && !h.spec.HasSpinLock) {
		return h.errorf(op, EINVAL, "flags %#x", uint64(flags))
	}
	hv := h.t.hash(key)
	b := hv & h.t.mask
	l := h.t.lock(b)
	l.RLock()
	defer l.RUnlock()
	e := h.t.find(b, hv, key)
	if e < 0 {
		return opError(h.spec.Name, op, ENOENT, "")
	}
	if flags&UpdateLock != 0 {
		h.vals.loadLocked(valueOut, h.ptr(e, 0))
		return nil
	}
	h.copyOut(e, valueOut)
	return nil
}

// Update creates or replaces key's value; per-CPU maps take every slot's
// value in Linux's layout.
func (h *HashMap) Update(key, value []byte, flags UpdateFlags) error {
	const op = "update"
	if err := h.userWrite(op); err != nil {
		return err
	}
	if err := h.checkKey(op, key); err != nil {
		return err
	}
	if err := h.checkValue(op, value); err != nil {
		return err
	}
	r := h.update(key, uint64(flags), true, func(e int32, _ bool) {
		if !h.percpu {
			h.vals.put(h.ptr(e, 0), value, uint64(flags))
			return
		}
		copyInPerCPU(h.vals, value, h.vstride, h.slots, func(s int) unsafe.Pointer { return h.ptr(e, s) })
	})
	return retErr(h.spec.Name, op, r)
}

// Delete removes key.
func (h *HashMap) Delete(key []byte) error {
	const op = "delete"
	if err := h.userWrite(op); err != nil {
		return err
	}
	if err := h.checkKey(op, key); err != nil {
		return err
	}
	return retErr(h.spec.Name, op, h.remove(key, nil))
}

// LookupAndDelete copies the value of key and removes it.
func (h *HashMap) LookupAndDelete(key, valueOut []byte) error {
	const op = "lookup and delete"
	if err := h.userRead(op); err != nil {
		return err
	}
	if err := h.userWrite(op); err != nil {
		return err
	}
	if err := h.checkKey(op, key); err != nil {
		return err
	}
	if err := h.checkValue(op, valueOut); err != nil {
		return err
	}
	return retErr(h.spec.Name, op, h.remove(key, valueOut))
}

// NextKey returns the key after key; the first key if key is nil or absent.
func (h *HashMap) NextKey(key, nextOut []byte) error {
	const op = "next key"
	if err := h.userRead(op); err != nil {
		return err
	}
	if err := h.checkKey(op, nextOut); err != nil {
		return err
	}
	if key != nil {
		if err := h.checkKey(op, key); err != nil {
			return err
		}
	}
	if !h.t.nextKey(key, nextOut) {
		return opError(h.spec.Name, op, ENOENT, "")
	}
	return nil
}

// touch marks an LRU element referenced; it writes only when the bit is
// clear so hot lookups do not bounce the cache line.
func (h *HashMap) touch(e int32) {
	if atomic.LoadUint32(&h.ref[e]) == 0 {
		atomic.StoreUint32(&h.ref[e], 1)
	}
}

// HashInline describes the memory of a hash map to code that looks keys up
// without calling LookupPtr, such as the amd64 JIT. Following it gives
// exactly LookupPtr's result:
//
//  1. Per-CPU maps: NULL if the slot is not below Slots.
//  2. h = the low 32 bits of the hash of the key (see Seed and Mult),
//     b = h & Mask.
//  3. seq = the u32 at Stripes + (b & StripeMask)*StripeSize + SeqOffset;
//     if it is odd, a writer is busy: call LookupPtr instead.
//  4. e = the i32 at Heads + 4*b; while e != -1: e must be below N
//     (unsigned) and at most N elements may be visited, else call
//     LookupPtr. The record of e is at Elems + e*Stride: u32 hash at 0,
//     i32 link to the next element at 4, the key at 8, padded with zeros
//     to a multiple of 8 bytes. Stop at the element whose hash is h and
//     whose key is the key; else e = the link.
//  5. If the seq word no longer holds seq, call LookupPtr: the walk may
//     have followed links a writer was changing.
//  6. Not found: NULL. Found: LRU maps set the element's reference word
//     (u32 at Refs + 4*e) to 1 if it is 0; the value is at
//     Values + slot*SlotStride + e*ValueStride (slot 0 unless per-CPU).
//
// Addresses stay valid as long as the map is reachable; code that uses
// them must keep a reference to the map.
type HashInline struct {
	// Heads is the address of the bucket heads: Mask+1 i32 element
	// indexes, -1 for an empty bucket.
	Heads uintptr
	// Mask is the number of buckets minus one (a power of two minus one).
	Mask uint32
	// Elems is the address of the element records, Stride bytes apart.
	Elems uintptr
	// Stride is the size of a record: 8 + KeySize rounded up to 8.
	Stride uint32
	// KeySize is the key size in bytes.
	KeySize uint32
	// N is MaxEntries: every element index is below it.
	N uint32
	// Seed and Mult define the hash of a key k of n bytes, with
	// mix(a, b) = the high 64 bits of the 128-bit product a*b xor its low
	// 64 bits: h = Seed ^ n*Mult[0]; for each whole 8-byte little-endian
	// word w of k, h = mix(h^w, Mult[1]); if bytes remain, h = mix(h^w,
	// Mult[2]) with w the remaining bytes zero-extended; finally
	// h = mix(h, Mult[0]^Mult[2]).
	Seed uint64
	Mult [3]uint64
	// Stripes is the address of the stripes, StripeSize bytes apart;
	// bucket b belongs to stripe b & StripeMask.
	Stripes    uintptr
	StripeSize uint32
	StripeMask uint32
	// SeqOffset is where a stripe's u32 sequence counter lies in it.
	SeqOffset uint32
	// Values is the address of the values: ValueStride bytes apart by
	// element, and for per-CPU maps SlotStride bytes apart by slot.
	Values      uintptr
	ValueStride uint32
	SlotStride  uint64
	// PerCPU marks per-CPU maps, which have Slots copies of each value.
	PerCPU bool
	Slots  int
	// LRU marks LRU maps, whose lookups set the element's reference word
	// at Refs.
	LRU  bool
	Refs uintptr
}

// Inline describes the map's memory for lookups in generated code.
func (h *HashMap) Inline() HashInline {
	t := &h.t
	d := HashInline{
		Heads:       uintptr(unsafe.Pointer(unsafe.SliceData(t.heads))),
		Mask:        t.mask,
		Elems:       uintptr(unsafe.Pointer(unsafe.SliceData(t.elems))),
		Stride:      uint32(t.stride),
		KeySize:     uint32(t.keySize),
		N:           uint32(t.n),
		Seed:        t.seed,
		Mult:        [3]uint64{hashK0, hashK1, hashK2},
		Stripes:     uintptr(unsafe.Pointer(unsafe.SliceData(t.stripes))),
		StripeSize:  uint32(stripeSize),
		StripeMask:  t.smask,
		SeqOffset:   uint32(stripeSeqOff),
		Values:      uintptr(unsafe.Pointer(unsafe.SliceData(h.mem))),
		ValueStride: uint32(h.vstride),
		SlotStride:  uint64(h.vstride) * uint64(t.n),
		PerCPU:      h.percpu,
		Slots:       1,
		LRU:         h.lru,
	}
	if h.percpu {
		d.Slots = h.slots
	}
	if h.lru {
		d.Refs = uintptr(unsafe.Pointer(unsafe.SliceData(h.ref)))
	}
	return d
}
