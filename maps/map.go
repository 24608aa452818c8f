package maps

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Map is the user-space view of a map, what the Go API and the CLI use. It
// copies keys and values in and out and reports Linux's errors for each
// map type (see the Errno in each error). All methods are safe for
// concurrent use, also while programs use the map.
type Map interface {
	// Spec returns the spec the map was created from (after New's
	// defaults: a perf event array's MaxEntries).
	Spec() Spec
	// Slots returns the number of execution slots the map was created for.
	Slots() int
	// Lookup copies the value of key into valueOut. Per-CPU maps write
	// Slots() values, each rounded up to 8 bytes. Queue, stack and bloom
	// filter take a nil key: peek.
	Lookup(key, valueOut []byte) error
	// Update creates or replaces the value of key. Queue and stack take a
	// nil key: push; bloom filter: add.
	Update(key, value []byte, flags UpdateFlags) error
	// Delete removes key.
	Delete(key []byte) error
	// NextKey writes the key after key into nextOut: the first key if key
	// is nil or (for hash maps) not in the map; ErrKeyNotExist after the
	// last.
	NextKey(key, nextOut []byte) error
	// LookupAndDelete copies the value of key and removes it; queue and
	// stack take a nil key: pop.
	LookupAndDelete(key, valueOut []byte) error
	// Freeze makes the map read-only for user space (BPF_MAP_FREEZE);
	// programs may still write unless the map has FlagRdOnlyProg.
	Freeze() error
	// Frozen reports whether Freeze was called.
	Frozen() bool
	// Close ends the map's user-space use and wakes blocked readers.
	// Memory that programs hold stays valid until the map is unreachable.
	Close() error
}

// ElemMap is the program side of maps whose programs call
// bpf_map_lookup_elem, bpf_map_update_elem and bpf_map_delete_elem: arrays,
// hash maps and the LPM trie. Helpers call these methods with keys and
// values that alias program memory; they neither copy the key nor allocate,
// and report failures as -errno.
type ElemMap interface {
	Map
	// LookupPtr returns the address of key's value, for per-CPU maps the
	// value of slot; nil if key is absent. The memory stays valid and
	// unmoved while the map exists, also after key is deleted (its slot is
	// reused, as in Linux's preallocated maps).
	LookupPtr(key []byte, slot int) unsafe.Pointer
	// UpdateElem is bpf_map_update_elem: flags are BPF_ANY, BPF_NOEXIST,
	// BPF_EXIST, optionally with BPF_F_LOCK; per-CPU maps write the value
	// of slot. It returns 0 or -errno.
	UpdateElem(key, value []byte, flags uint64, slot int) int64
	// DeleteElem is bpf_map_delete_elem; it returns 0 or -errno.
	DeleteElem(key []byte) int64
	// ForEach is bpf_for_each_map_elem: it calls fn with each key and
	// value (slot's value for per-CPU maps) until fn returns false, and
	// returns the number of calls, or -errno if the map type has no
	// iteration. fn may update and delete elements of the map.
	ForEach(slot int, fn func(key, value unsafe.Pointer) bool) int64
	// ValueMemory returns the memory all values live in, for registering
	// it as a region of checked runs.
	ValueMemory() []byte
}

// PerCPUMap is an ElemMap with one value per slot.
type PerCPUMap interface {
	ElemMap
	// LookupPercpuElem is bpf_map_lookup_percpu_elem: the value of key on
	// slot cpu, nil if the key is absent or cpu is out of range.
	LookupPercpuElem(key []byte, cpu int) unsafe.Pointer
}

// QueueMap is the program side of queue, stack and bloom filter: the
// bpf_map_push_elem, bpf_map_pop_elem and bpf_map_peek_elem helpers. The
// value slices alias program memory. Each returns 0 or -errno.
type QueueMap interface {
	Map
	PushElem(value []byte, flags uint64) int64
	PopElem(valueOut []byte) int64
	PeekElem(valueOut []byte) int64
}

// HandleMap is a map whose values are objects the runtime manages:
// prog_array (programs for bpf_tail_call), array_of_maps and hash_of_maps
// (inner Maps). The package never looks inside a program handle; inner maps
// must be Maps matching Spec().InnerMap.
type HandleMap interface {
	Map
	// SetHandle stores h at key (user space's BPF_MAP_UPDATE_ELEM with an
	// fd). Flags as Linux allows for the type.
	SetHandle(key []byte, h any, flags UpdateFlags) error
	// Handle returns the object at key, or nil: for programs (tail calls,
	// inner map lookups); it does not allocate.
	Handle(key []byte) any
}

// IDer is implemented by handles that have an ID: user-space Lookup on a
// HandleMap writes the 4-byte ID, as Linux returns program and map IDs.
type IDer interface{ ID() uint32 }

// base holds what every map has.
type base struct {
	spec  Spec
	slots int
	// closed and frozen are set atomically (flag type) once the map is in
	// use; base itself is copied only while constructing.
	closed flag
	frozen flag
	// file is the whole mapping of the map memory file that holds the
	// map's memory (NewInFile), nil for maps in process memory.
	file []byte
}

// flag is a boolean set and read atomically. Unlike atomic.Bool it may be
// copied, which the constructors do before the map is shared.
type flag uint32

func (f *flag) Load() bool { return atomic.LoadUint32((*uint32)(f)) != 0 }

func (f *flag) Store(v bool) {
	var n uint32
	if v {
		n = 1
	}
	atomic.StoreUint32((*uint32)(f), n)
}

// Spec returns a copy of the map's spec.
func (b *base) Spec() Spec {
	s := b.spec
	if s.InnerMap != nil {
		inner := *s.InnerMap
		s.InnerMap = &inner
	}
	return s
}

// Slots returns the number of execution slots.
func (b *base) Slots() int { return b.slots }

// Freeze makes the map read-only for user space.
func (b *base) Freeze() error {
	if b.closed.Load() {
		return b.errClosed("freeze")
	}
	b.frozen.Store(true)
	return nil
}

// Frozen reports whether Freeze was called.
func (b *base) Frozen() bool { return b.frozen.Load() }

// Close marks the map closed for user space.
func (b *base) Close() error {
	b.closed.Store(true)
	return nil
}

func (b *base) errClosed(op string) error { return opError(b.spec.Name, op, EBADF, "") }

func (b *base) errorf(op string, errno Errno, format string, args ...any) error {
	return opError(b.spec.Name, op, errno, fmt.Sprintf(format, args...))
}

// userRead checks that user space may read the map.
func (b *base) userRead(op string) error {
	if b.closed.Load() {
		return b.errClosed(op)
	}
	if b.spec.Flags&FlagWrOnly != 0 {
		return b.errorf(op, EPERM, "map is write-only for user space")
	}
	return nil
}

// userWrite checks that user space may write the map.
func (b *base) userWrite(op string) error {
	if b.closed.Load() {
		return b.errClosed(op)
	}
	if b.spec.Flags&FlagRdOnly != 0 {
		return b.errorf(op, EPERM, "map is read-only for user space")
	}
	if b.frozen.Load() {
		return b.errorf(op, EPERM, "map is frozen")
	}
	return nil
}

// progWrite reports whether programs may write, as -EPERM or 0.
func (b *base) progWrite() int64 {
	if b.spec.Flags&FlagRdOnlyProg != 0 {
		return EPERM.Ret()
	}
	return 0
}

func (b *base) checkKey(op string, key []byte) error {
	if len(key) != int(b.spec.KeySize) {
		return b.errorf(op, EINVAL, "key size %d, want %d", len(key), b.spec.KeySize)
	}
	return nil
}

// checkValue checks a user-space value buffer: per-CPU maps take one
// rounded value per slot.
func (b *base) checkValue(op string, v []byte) error {
	if want := b.spec.userValueSize(b.slots); len(v) != want {
		return b.errorf(op, EINVAL, "value size %d, want %d", len(v), want)
	}
	return nil
}

// updateFlags checks flags for the element maps: BPF_ANY, BPF_NOEXIST or
// BPF_EXIST, and BPF_F_LOCK only for values with a spin lock.
func (b *base) updateFlags(flags uint64) int64 {
	if flags&^uint64(UpdateLock) > uint64(UpdateExist) {
		return EINVAL.Ret()
	}
	if flags&uint64(UpdateLock) != 0 && !b.spec.HasSpinLock {
		return EINVAL.Ret()
	}
	return 0
}

func notSupported(b *base, op string, errno Errno) error {
	if b.closed.Load() {
		return b.errClosed(op)
	}
	return b.errorf(op, errno, "%s does not support %s", b.spec.Type, op)
}

// The capabilities of each type, checked at compile time.
var (
	_ PerCPUMap = (*ArrayMap)(nil)
	_ PerCPUMap = (*HashMap)(nil)
	_ ElemMap   = (*LPMTrieMap)(nil)
	_ QueueMap  = (*QueueStackMap)(nil)
	_ QueueMap  = (*BloomFilterMap)(nil)
	_ HandleMap = (*HandleArrayMap)(nil)
	_ HandleMap = (*HandleHashMap)(nil)
	_ Map       = (*RingBufMap)(nil)
	_ Map       = (*PerfEventArrayMap)(nil)
	_ ElemMap   = (*XSKArrayMap)(nil)
)
