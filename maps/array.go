package maps

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// ArrayMap is BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY: MaxEntries
// preallocated values indexed by a host-endian u32 key. Elements always
// exist; lookups are lock-free. Per-CPU arrays keep the values of each slot
// together ([slot][index]) so slots do not share cache lines.
type ArrayMap struct {
	base
	vals   valueOps
	n      uint32
	stride uintptr // value size rounded up to 8
	percpu bool
	mem    []byte
	// forEachKeys holds, per slot, the key words ForEach hands to
	// callbacks, one per nesting level; made at the first ForEach.
	forEachKeys atomic.Pointer[[]slotKeys]
}

// slotKeys are one slot's ForEach key words: a callback may walk the same
// array again (up to the call depth), and each walk needs its own word.
type slotKeys struct {
	depth int
	keys  [8]uint32
}

func newArray(b base) *ArrayMap { return newArrayIn(b, slab) }

// newArrayIn is newArray with the values in the memory alloc returns: n
// zeroed (or, for a reused memory file, kept), 8-byte aligned bytes that
// never move.
func newArrayIn(b base, alloc func(n uint64) []byte) *ArrayMap {
	a := &ArrayMap{base: b, vals: newValueOps(&b.spec), n: b.spec.MaxEntries, percpu: b.spec.Type == PerCPUArray}
	a.stride = uintptr(round8(uint64(b.spec.ValueSize)))
	copies := uint64(1)
	if a.percpu {
		copies = uint64(b.slots)
	}
	a.mem = alloc(uint64(a.stride) * uint64(a.n) * copies)
	return a
}

// index decodes an array key; ok is false for keys of the wrong size.
func arrayIndex(key []byte) (uint32, bool) {
	if len(key) != 4 {
		return 0, false
	}
	return binary.NativeEndian.Uint32(key), true
}

// ptr returns the value of idx for slot; the caller checked both.
func (a *ArrayMap) ptr(idx uint32, slot int) unsafe.Pointer {
	off := uintptr(idx) * a.stride
	if a.percpu {
		off += uintptr(slot) * uintptr(a.n) * a.stride
	}
	return unsafe.Pointer(&a.mem[off])
}

// ValuePtr returns the address of the value at index (of slot, for per-CPU
// arrays), nil if out of range. Global data sections are single-entry
// arrays; lddw of a global variable resolves to ValuePtr(0, 0) plus the
// variable's offset.
func (a *ArrayMap) ValuePtr(index uint32, slot int) unsafe.Pointer {
	if index >= a.n || (a.percpu && uint(slot) >= uint(a.slots)) {
		return nil
	}
	if !a.percpu {
		slot = 0
	}
	return a.ptr(index, slot)
}

// ValueMemory returns the memory of all values.
func (a *ArrayMap) ValueMemory() []byte { return a.mem }

// LookupPtr returns the value of key (of slot for per-CPU arrays).
func (a *ArrayMap) LookupPtr(key []byte, slot int) unsafe.Pointer {
	idx, ok := arrayIndex(key)
	if !ok || idx >= a.n {
		return nil
	}
	if !a.percpu {
		return a.ptr(idx, 0)
	}
	if uint(slot) >= uint(a.slots) {
		return nil
	}
	return a.ptr(idx, slot)
}

// LookupPercpuElem returns the value of key on slot cpu.
func (a *ArrayMap) LookupPercpuElem(key []byte, cpu int) unsafe.Pointer {
	if !a.percpu {
		return nil
	}
	return a.LookupPtr(key, cpu)
}

// UpdateElem writes the value of key (slot's, for per-CPU arrays).
func (a *ArrayMap) UpdateElem(key, value []byte, flags uint64, slot int) int64 {
	if r := a.progWrite(); r != 0 {
		return r
	}
	if r := a.checkUpdate(key, flags); r != 0 {
		return r
	}
	if len(value) < a.vals.size || (a.percpu && uint(slot) >= uint(a.slots)) {
		return EINVAL.Ret()
	}
	idx, _ := arrayIndex(key)
	if !a.percpu {
		slot = 0
	}
	a.vals.put(a.ptr(idx, slot), value[:a.vals.size], flags)
	return 0
}

// checkUpdate applies Linux's checks in Linux's order: flags, index, NOEXIST.
func (a *ArrayMap) checkUpdate(key []byte, flags uint64) int64 {
	if a.percpu && flags > uint64(UpdateExist) {
		return EINVAL.Ret()
	}
	if flags&^uint64(UpdateLock) > uint64(UpdateExist) {
		return EINVAL.Ret()
	}
	idx, ok := arrayIndex(key)
	if !ok {
		return EINVAL.Ret()
	}
	if idx >= a.n {
		return E2BIG.Ret()
	}
	if flags&uint64(UpdateNoExist) != 0 {
		return EEXIST.Ret()
	}
	if flags&uint64(UpdateLock) != 0 && !a.spec.HasSpinLock {
		return EINVAL.Ret()
	}
	return 0
}

// DeleteElem fails: array elements cannot be deleted.
func (a *ArrayMap) DeleteElem(key []byte) int64 { return EINVAL.Ret() }

// ForEach calls fn for every index in order.
func (a *ArrayMap) ForEach(slot int, fn func(key, value unsafe.Pointer) bool) int64 {
	runSlot := slot
	if a.percpu && uint(slot) >= uint(a.slots) {
		return EINVAL.Ret()
	}
	if !a.percpu {
		slot = 0
	}
	// Like Linux (bpf_for_each_array_elem), the key is one u32 that holds
	// each index in turn, not per-element memory: a big array needs no
	// key table. Runs on one slot do not overlap, so the word is the
	// slot's, at the walk's nesting level.
	key, sk := a.forEachKey(runSlot)
	if sk != nil {
		defer func() { sk.depth-- }()
	}
	var n int64
	for i := uint32(0); i < a.n; i++ {
		n++
		*key = i
		if !fn(unsafe.Pointer(key), a.ptr(i, slot)) {
			break
		}
	}
	return n
}

// forEachKey returns the key word of a walk on slot, and the slot's words,
// whose depth the walk decrements when it ends (nil for a word of its own).
func (a *ArrayMap) forEachKey(slot int) (*uint32, *slotKeys) {
	ks := a.forEachKeys.Load()
	if ks == nil {
		fresh := make([]slotKeys, a.slots)
		a.forEachKeys.CompareAndSwap(nil, &fresh)
		ks = a.forEachKeys.Load()
	}
	if uint(slot) >= uint(len(*ks)) || (*ks)[slot].depth >= len((*ks)[slot].keys) {
		return new(uint32), nil // not a run's slot, or nested deeper than calls go
	}
	sk := &(*ks)[slot]
	sk.depth++
	return &sk.keys[sk.depth-1], sk
}

// Lookup copies the value of key; per-CPU arrays copy every slot's value.
func (a *ArrayMap) Lookup(key, valueOut []byte) error {
	return a.lookup(key, valueOut, 0)
}

// LookupWithFlags is Lookup with BPF_F_LOCK: the copy is made under the
// value's spin lock.
func (a *ArrayMap) LookupWithFlags(key, valueOut []byte, flags UpdateFlags) error {
	return a.lookup(key, valueOut, flags)
}

func (a *ArrayMap) lookup(key, valueOut []byte, flags UpdateFlags) error {
	const op = "lookup"
	if err := a.userRead(op); err != nil {
		return err
	}
	if err := a.checkKey(op, key); err != nil {
		return err
	}
	if err := a.checkValue(op, valueOut); err != nil {
		return err
	}
	if flags&^UpdateLock != 0 || (flags&UpdateLock != 0 && !a.spec.HasSpinLock) {
		return a.errorf(op, EINVAL, "flags %#x", uint64(flags))
	}
	idx, _ := arrayIndex(key)
	if idx >= a.n {
		return opError(a.spec.Name, op, ENOENT, "")
	}
	if !a.percpu {
		if flags&UpdateLock != 0 {
			a.vals.loadLocked(valueOut, a.ptr(idx, 0))
		} else {
			a.vals.load(valueOut, a.ptr(idx, 0))
		}
		return nil
	}
	copyOutPerCPU(a.vals, valueOut, a.stride, a.slots, func(s int) unsafe.Pointer { return a.ptr(idx, s) })
	return nil
}

// copyOutPerCPU lays out the values of all slots as Linux does: each value
// rounded up to 8 bytes, slot after slot.
func copyOutPerCPU(v valueOps, out []byte, stride uintptr, slots int, ptr func(int) unsafe.Pointer) {
	for s := 0; s < slots; s++ {
		dst := out[uintptr(s)*stride : uintptr(s+1)*stride]
		v.load(dst[:v.size], ptr(s))
		clear(dst[v.size:])
	}
}

// copyInPerCPU stores the values of all slots from Linux's layout.
func copyInPerCPU(v valueOps, in []byte, stride uintptr, slots int, ptr func(int) unsafe.Pointer) {
	for s := 0; s < slots; s++ {
		v.store(ptr(s), in[uintptr(s)*stride:uintptr(s)*stride+uintptr(v.size)])
	}
}

// Update writes the value of key; per-CPU arrays take every slot's value.
func (a *ArrayMap) Update(key, value []byte, flags UpdateFlags) error {
	const op = "update"
	if err := a.userWrite(op); err != nil {
		return err
	}
	if err := a.checkKey(op, key); err != nil {
		return err
	}
	if err := a.checkValue(op, value); err != nil {
		return err
	}
	if r := a.checkUpdate(key, uint64(flags)); r != 0 {
		return retErr(a.spec.Name, op, r)
	}
	idx, _ := arrayIndex(key)
	if !a.percpu {
		a.vals.put(a.ptr(idx, 0), value, uint64(flags))
		return nil
	}
	copyInPerCPU(a.vals, value, a.stride, a.slots, func(s int) unsafe.Pointer { return a.ptr(idx, s) })
	return nil
}

// Delete fails with EINVAL, as in Linux.
func (a *ArrayMap) Delete(key []byte) error {
	if err := a.userWrite("delete"); err != nil {
		return err
	}
	return a.errorf("delete", EINVAL, "array elements cannot be deleted")
}

// LookupAndDelete is not supported by arrays.
func (a *ArrayMap) LookupAndDelete(key, valueOut []byte) error {
	return notSupported(&a.base, "lookup and delete", ENOTSUPP)
}

// NextKey returns the index after key: 0 for nil or out-of-range keys.
func (a *ArrayMap) NextKey(key, nextOut []byte) error {
	if err := a.userRead("next key"); err != nil {
		return err
	}
	return arrayNextKey(&a.base, a.n, key, nextOut)
}

func arrayNextKey(b *base, n uint32, key, nextOut []byte) error {
	const op = "next key"
	if err := b.checkKey(op, nextOut); err != nil {
		return err
	}
	next := uint32(0)
	if key != nil {
		if err := b.checkKey(op, key); err != nil {
			return err
		}
		if idx, _ := arrayIndex(key); idx < n {
			if idx == n-1 {
				return opError(b.spec.Name, op, ENOENT, "")
			}
			next = idx + 1
		}
	}
	binary.NativeEndian.PutUint32(nextOut, next)
	return nil
}

// NextNonZero returns the first index at or after from whose value is not
// all zero bytes (in any slot, for per-CPU arrays), and false if there is
// none. It reads the values in place, so that dumping a large, mostly
// empty array skips the zero entries without copying them.
func (a *ArrayMap) NextNonZero(from uint32) (uint32, bool) {
	copies := 1
	if a.percpu {
		copies = a.slots
	}
	words := a.stride / 8
	for i := uint64(from); i < uint64(a.n); i++ {
		for s := 0; s < copies; s++ {
			v := unsafe.Slice((*uint64)(a.ptr(uint32(i), s)), words)
			for _, w := range v {
				if w != 0 {
					return uint32(i), true
				}
			}
		}
	}
	return 0, false
}
