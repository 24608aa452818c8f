package maps

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// handleBox holds a handle so it can be swapped atomically.
type handleBox struct{ h any }

// checkHandle validates a handle for a map type: inner maps must be Maps
// whose spec matches the template (type, key and value size, flags, max
// entries unless the template has BPF_F_INNER_MAP, and where the value's
// bpf_spin_lock and bpf_timer lie), as Linux's bpf_map_meta_equal requires.
func (b *base) checkHandle(op string, h any) error {
	if h == nil {
		return b.errorf(op, EINVAL, "nil handle")
	}
	if b.spec.Type != ArrayOfMaps && b.spec.Type != HashOfMaps {
		return nil
	}
	m, ok := h.(Map)
	if !ok {
		return b.errorf(op, EINVAL, "handle %T is not a map", h)
	}
	in, want := m.Spec(), b.spec.InnerMap
	switch {
	case in.Type != want.Type:
		return b.errorf(op, EINVAL, "inner map %q has type %s, want %s", in.Name, in.Type, want.Type)
	case in.KeySize != want.KeySize || in.ValueSize != want.ValueSize:
		return b.errorf(op, EINVAL, "inner map %q has key/value size %d/%d, want %d/%d",
			in.Name, in.KeySize, in.ValueSize, want.KeySize, want.ValueSize)
	case in.Flags != want.Flags:
		return b.errorf(op, EINVAL, "inner map %q has flags %#x, want %#x", in.Name, in.Flags, want.Flags)
	case want.Flags&FlagInnerMap == 0 && in.MaxEntries != want.MaxEntries:
		return b.errorf(op, EINVAL, "inner map %q has max entries %d, want %d", in.Name, in.MaxEntries, want.MaxEntries)
	case in.HasSpinLock != want.HasSpinLock || in.HasSpinLock && in.SpinLockOffset != want.SpinLockOffset,
		in.HasTimer != want.HasTimer || in.HasTimer && in.TimerOffset != want.TimerOffset:
		// Programs were verified against the template's bpf_spin_lock and
		// bpf_timer (Linux's btf_record_equal): a lock the template lacks
		// could be written as plain data, and the next bpf_spin_lock wait.
		return b.errorf(op, EINVAL, "inner map %q has a bpf_spin_lock or bpf_timer where the template has none or has it elsewhere", in.Name)
	}
	return nil
}

// lookupHandle implements user-space Lookup on handle maps: Linux returns
// the program or map ID.
func (b *base) lookupHandle(op string, box *handleBox, valueOut []byte) error {
	if box == nil {
		return opError(b.spec.Name, op, ENOENT, "")
	}
	ider, ok := box.h.(IDer)
	if !ok {
		return b.errorf(op, EOPNOTSUPP, "handle %T has no ID", box.h)
	}
	if len(valueOut) != 4 {
		return b.errorf(op, EINVAL, "value size %d, want 4", len(valueOut))
	}
	binary.NativeEndian.PutUint32(valueOut, ider.ID())
	return nil
}

// HandleArrayMap is BPF_MAP_TYPE_PROG_ARRAY and BPF_MAP_TYPE_ARRAY_OF_MAPS:
// MaxEntries slots that each hold nothing or a handle the runtime set with
// SetHandle (a program, an inner Map). Reads are lock-free.
type HandleArrayMap struct {
	base
	entries []atomic.Pointer[handleBox]
	// owner is what the programs a program array holds and is used by
	// share (see Own); nil until the first claims it.
	ownerMu sync.Mutex
	owner   any
}

// Own makes owner (a comparable value naming a kind of program) the owner
// of the array if it has none yet, and reports whether owner is its owner.
// The runtime claims a program array for each program that uses it and
// each program stored in it, as Linux's bpf_prog_map_compatible does, so
// that a tail call never runs a program on a context of another layout.
func (a *HandleArrayMap) Own(owner any) bool {
	a.ownerMu.Lock()
	defer a.ownerMu.Unlock()
	if a.owner == nil {
		a.owner = owner
	}
	return a.owner == owner
}

func newHandleArray(b base) *HandleArrayMap {
	return &HandleArrayMap{base: b, entries: make([]atomic.Pointer[handleBox], b.spec.MaxEntries)}
}

// HandleAt returns the handle at index, nil if empty or out of range: what
// bpf_tail_call uses.
func (a *HandleArrayMap) HandleAt(index uint32) any {
	if index >= uint32(len(a.entries)) {
		return nil
	}
	if box := a.entries[index].Load(); box != nil {
		return box.h
	}
	return nil
}

// Handle returns the handle at key (a u32 index).
func (a *HandleArrayMap) Handle(key []byte) any {
	idx, ok := arrayIndex(key)
	if !ok {
		return nil
	}
	return a.HandleAt(idx)
}

// SetHandle stores h at key; flags must be BPF_ANY.
func (a *HandleArrayMap) SetHandle(key []byte, h any, flags UpdateFlags) error {
	const op = "update"
	if err := a.userWrite(op); err != nil {
		return err
	}
	if err := a.checkKey(op, key); err != nil {
		return err
	}
	if flags != UpdateAny {
		return a.errorf(op, EINVAL, "flags %#x, want BPF_ANY", uint64(flags))
	}
	idx, _ := arrayIndex(key)
	if idx >= uint32(len(a.entries)) {
		return a.errorf(op, E2BIG, "index %d, want < %d", idx, len(a.entries))
	}
	if err := a.checkHandle(op, h); err != nil {
		return err
	}
	a.entries[idx].Store(&handleBox{h})
	return nil
}

// Lookup writes the ID of the handle at key, if it has one.
func (a *HandleArrayMap) Lookup(key, valueOut []byte) error {
	const op = "lookup"
	if err := a.userRead(op); err != nil {
		return err
	}
	if err := a.checkKey(op, key); err != nil {
		return err
	}
	idx, _ := arrayIndex(key)
	if idx >= uint32(len(a.entries)) {
		return opError(a.spec.Name, op, ENOENT, "")
	}
	return a.lookupHandle(op, a.entries[idx].Load(), valueOut)
}

// Update is not supported with bytes: Linux takes file descriptors here;
// the runtime calls SetHandle.
func (a *HandleArrayMap) Update(key, value []byte, flags UpdateFlags) error {
	return notSupported(&a.base, "update with bytes (use SetHandle)", EOPNOTSUPP)
}

// Delete clears the slot at key: EINVAL out of range, ENOENT if empty.
func (a *HandleArrayMap) Delete(key []byte) error {
	const op = "delete"
	if err := a.userWrite(op); err != nil {
		return err
	}
	if err := a.checkKey(op, key); err != nil {
		return err
	}
	idx, _ := arrayIndex(key)
	if idx >= uint32(len(a.entries)) {
		return a.errorf(op, EINVAL, "index %d, want < %d", idx, len(a.entries))
	}
	if a.entries[idx].Swap(nil) == nil {
		return opError(a.spec.Name, op, ENOENT, "")
	}
	return nil
}

// LookupAndDelete is not supported.
func (a *HandleArrayMap) LookupAndDelete(key, valueOut []byte) error {
	return notSupported(&a.base, "lookup and delete", ENOTSUPP)
}

// NextKey iterates indexes like an array.
func (a *HandleArrayMap) NextKey(key, nextOut []byte) error {
	if err := a.userRead("next key"); err != nil {
		return err
	}
	return arrayNextKey(&a.base, uint32(len(a.entries)), key, nextOut)
}

// HandleHashMap is BPF_MAP_TYPE_HASH_OF_MAPS: a hash table from keys to
// inner Maps.
type HandleHashMap struct {
	base
	t       table
	entries []atomic.Pointer[handleBox] // by element
}

func newHandleHash(b base) *HandleHashMap {
	seed := rand.Uint64()
	if b.spec.Flags&FlagZeroSeed != 0 {
		seed = 0
	}
	m := &HandleHashMap{base: b, entries: make([]atomic.Pointer[handleBox], b.spec.MaxEntries)}
	m.t.init(b.spec.MaxEntries, b.spec.KeySize, seed)
	return m
}

// Handle returns the inner map at key, or nil.
func (m *HandleHashMap) Handle(key []byte) any {
	if len(key) != m.t.keySize {
		return nil
	}
	hv := m.t.hash(key)
	b := hv & m.t.mask
	l := m.t.lock(b)
	l.RLock()
	defer l.RUnlock()
	if e := m.t.find(b, hv, key); e >= 0 {
		return m.entries[e].Load().h
	}
	return nil
}

// SetHandle stores inner map h at key with BPF_ANY, BPF_NOEXIST or BPF_EXIST.
func (m *HandleHashMap) SetHandle(key []byte, h any, flags UpdateFlags) error {
	const op = "update"
	if err := m.userWrite(op); err != nil {
		return err
	}
	if err := m.checkKey(op, key); err != nil {
		return err
	}
	if flags > UpdateExist {
		return m.errorf(op, EINVAL, "flags %#x", uint64(flags))
	}
	if err := m.checkHandle(op, h); err != nil {
		return err
	}
	box := &handleBox{h}
	hv := m.t.hash(key)
	b := hv & m.t.mask
	l := m.t.lock(b)
	l.Lock()
	defer l.Unlock()
	if e := m.t.find(b, hv, key); e >= 0 {
		if flags == UpdateNoExist {
			return opError(m.spec.Name, op, EEXIST, "")
		}
		m.entries[e].Store(box)
		return nil
	}
	if flags == UpdateExist {
		return opError(m.spec.Name, op, ENOENT, "")
	}
	m.t.mu.Lock()
	e := m.t.alloc()
	m.t.mu.Unlock()
	if e < 0 {
		return opError(m.spec.Name, op, E2BIG, "")
	}
	m.entries[e].Store(box)
	m.t.link(b, hv, e, key, 1)
	return nil
}

// Lookup writes the ID of the inner map at key, if it has one.
func (m *HandleHashMap) Lookup(key, valueOut []byte) error {
	const op = "lookup"
	if err := m.userRead(op); err != nil {
		return err
	}
	if err := m.checkKey(op, key); err != nil {
		return err
	}
	var box *handleBox
	hv := m.t.hash(key)
	b := hv & m.t.mask
	l := m.t.lock(b)
	l.RLock()
	if e := m.t.find(b, hv, key); e >= 0 {
		box = m.entries[e].Load()
	}
	l.RUnlock()
	return m.lookupHandle(op, box, valueOut)
}

// Update is not supported with bytes; the runtime calls SetHandle.
func (m *HandleHashMap) Update(key, value []byte, flags UpdateFlags) error {
	return notSupported(&m.base, "update with bytes (use SetHandle)", EOPNOTSUPP)
}

// Delete removes key.
func (m *HandleHashMap) Delete(key []byte) error {
	const op = "delete"
	if err := m.userWrite(op); err != nil {
		return err
	}
	if err := m.checkKey(op, key); err != nil {
		return err
	}
	hv := m.t.hash(key)
	b := hv & m.t.mask
	l := m.t.lock(b)
	l.Lock()
	defer l.Unlock()
	e := m.t.find(b, hv, key)
	if e < 0 {
		return opError(m.spec.Name, op, ENOENT, "")
	}
	m.t.unlink(b, e)
	m.entries[e].Store(nil)
	m.t.mu.Lock()
	m.t.release(e)
	m.t.mu.Unlock()
	return nil
}

// LookupAndDelete is not supported.
func (m *HandleHashMap) LookupAndDelete(key, valueOut []byte) error {
	return notSupported(&m.base, "lookup and delete", ENOTSUPP)
}

// NextKey iterates keys like a hash map.
func (m *HandleHashMap) NextKey(key, nextOut []byte) error {
	const op = "next key"
	if err := m.userRead(op); err != nil {
		return err
	}
	if err := m.checkKey(op, nextOut); err != nil {
		return err
	}
	if key != nil {
		if err := m.checkKey(op, key); err != nil {
			return err
		}
	}
	if !m.t.nextKey(key, nextOut) {
		return opError(m.spec.Name, op, ENOENT, "")
	}
	return nil
}

// NextUsed returns the first index at or after from that holds a handle, and
// false if there is none: a walk over the used slots that skips empty ones
// without a lookup each.
func (a *HandleArrayMap) NextUsed(from uint32) (uint32, bool) {
	for i := uint64(from); i < uint64(len(a.entries)); i++ {
		if a.entries[i].Load() != nil {
			return uint32(i), true
		}
	}
	return 0, false
}
