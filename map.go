package bpfhost

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/bpfhost/bpfhost/maps"
)

// Errors of map operations, shared with package maps so that errors.Is works
// on every error a Map returns.
var (
	ErrKeyNotExist  = maps.ErrKeyNotExist
	ErrKeyExist     = maps.ErrKeyExist
	ErrMapFull      = maps.ErrFull
	ErrNotSupported = maps.ErrNotSupported
	ErrInvalid      = maps.ErrInvalid
	ErrPermission   = maps.ErrPermission
	ErrClosed       = maps.ErrClosed
	// ErrIterationAborted is wrapped by MapIterator.Err when the map
	// changed so much while iterating that the walk kept starting over.
	ErrIterationAborted = maps.ErrIterationAborted
)

// MapUpdateFlags select how Update treats an existing or missing key.
type MapUpdateFlags = maps.UpdateFlags

// Update flags.
const (
	UpdateAny     = maps.UpdateAny     // create or replace
	UpdateNoExist = maps.UpdateNoExist // create only
	UpdateExist   = maps.UpdateExist   // replace only
	UpdateLock    = maps.UpdateLock    // copy under the value's bpf_spin_lock
)

// Map is a map of a loaded Collection, used from user space while programs
// use it too. Keys and values are []byte or fixed-size Go values encoded in
// the host's byte order; per-CPU maps take and give one value per execution
// slot (a slice, or raw bytes with each value padded to 8 bytes).
type Map struct {
	name string
	m    maps.Map
	spec maps.Spec
	// handle is the address programs hold for this map (see registry.go).
	handle *mapHandle
	id     uint32
	// share counts the holders of the map's memory (pin.go); released
	// and user are this handle's.
	share *mapShare
	// released is set when this handle is closed (by Close, or by its
	// collection's): its operations fail with ErrClosed, although the map
	// may live on in other holders (a pin, another handle).
	released atomic.Bool
	user     bool
	// memFile is the map memory file holding the values, if any
	// (CollectionOptions.MapMemoryDir).
	memFile string
}

// ID returns the map's process-wide ID, as user-space lookups in maps of
// maps report it.
func (m *Map) ID() uint32 { return m.id }

// Name returns the map's name; global data maps are named by section.
func (m *Map) Name() string { return m.name }

// Type returns the map type.
func (m *Map) Type() MapType { return MapType(m.spec.Type) }

// KeySize returns the key size in bytes.
func (m *Map) KeySize() uint32 { return m.spec.KeySize }

// ValueSize returns the size of one value in bytes.
func (m *Map) ValueSize() uint32 { return m.spec.ValueSize }

// MaxEntries returns the capacity.
func (m *Map) MaxEntries() uint32 { return m.spec.MaxEntries }

// Flags returns the creation flags.
func (m *Map) Flags() uint32 { return m.spec.Flags }

// Slots returns how many values per key a per-CPU map holds.
func (m *Map) Slots() int { return m.m.Slots() }

// Unwrap returns the underlying map, for packages that need program-side
// access (ring buffer readers, tests).
func (m *Map) Unwrap() maps.Map { return m.m }

func (m *Map) String() string {
	return fmt.Sprintf("%s(%s, key %d, value %d, max %d)", m.name, m.spec.Type, m.spec.KeySize, m.spec.ValueSize, m.spec.MaxEntries)
}

func (m *Map) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("map %q: %s: %w", m.name, op, err)
}

// closedErr is the error of an operation on a closed handle, or nil.
func (m *Map) closedErr(op string) error {
	if m.released.Load() {
		return m.wrap(op, ErrClosed)
	}
	return nil
}

func (m *Map) key(op string, key any) ([]byte, error) {
	if err := m.closedErr(op); err != nil {
		return nil, err
	}
	b, err := marshal(key, int(m.spec.KeySize))
	return b, m.wrap(op, errWrap(err, "key"))
}

func errWrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w: %w", what, ErrInvalid, err)
}

func (m *Map) valueSize() int {
	if m.spec.Type.PerCPU() {
		return int((m.spec.ValueSize+7)&^7) * m.m.Slots()
	}
	return int(m.spec.ValueSize)
}

func (m *Map) value(op string, v any) ([]byte, error) {
	var b []byte
	var err error
	if m.spec.Type.PerCPU() {
		b, err = marshalPerCPU(v, int(m.spec.ValueSize), m.m.Slots())
	} else {
		b, err = marshal(v, int(m.spec.ValueSize))
	}
	return b, m.wrap(op, errWrap(err, "value"))
}

func (m *Map) decode(op string, b []byte, out any) error {
	var err error
	if inner, ok := out.(**Map); ok && m.isMapOfMaps() {
		return m.wrap(op, m.innerMap(b, inner))
	}
	if m.spec.Type.PerCPU() {
		err = unmarshalPerCPU(b, out, int(m.spec.ValueSize), m.m.Slots())
	} else {
		err = unmarshal(b, out)
	}
	return m.wrap(op, errWrap(err, "value"))
}

// Lookup copies the value of key into valueOut. In a map of maps the value
// is the inner map's ID, or, into a **Map, a new handle of the inner map
// that the caller closes. In a bloom filter (key nil) valueOut holds the
// value to test, as Linux reads it from the value pointer: a pointer to
// it, or the value itself; the error wraps ErrKeyNotExist if it is
// certainly absent.
func (m *Map) Lookup(key, valueOut any) error {
	k, err := m.key("lookup", key)
	if err != nil {
		return err
	}
	if m.spec.Type == maps.BloomFilter {
		v, err := m.value("lookup", valueOut)
		if err != nil {
			return err
		}
		return m.m.Lookup(k, v)
	}
	buf := make([]byte, m.valueSize())
	if err := m.m.Lookup(k, buf); err != nil {
		return err
	}
	return m.decode("lookup", buf, valueOut)
}

// LookupBytes returns the value of key, or nil and no error if it is absent.
func (m *Map) LookupBytes(key any) ([]byte, error) {
	var out []byte
	err := m.Lookup(key, &out)
	if errors.Is(err, ErrKeyNotExist) {
		return nil, nil
	}
	return out, err
}

// LookupAndDelete copies the value of key into valueOut and deletes it; for
// queues and stacks (key nil) it pops a value.
func (m *Map) LookupAndDelete(key, valueOut any) error {
	k, err := m.key("lookup and delete", key)
	if err != nil {
		return err
	}
	buf := make([]byte, m.valueSize())
	if err := m.m.LookupAndDelete(k, buf); err != nil {
		return err
	}
	return m.decode("lookup and delete", buf, valueOut)
}

// Update sets the value of key. In a program array the value is a *Program
// or a program ID; in a map of maps a *Map or a map ID (Linux takes file
// descriptors there).
func (m *Map) Update(key, value any, flags MapUpdateFlags) error {
	k, err := m.key("update", key)
	if err != nil {
		return err
	}
	if hm, ok := m.m.(maps.HandleMap); ok {
		h, err := m.handleFor(value)
		if err != nil {
			return m.wrap("update", err)
		}
		return hm.SetHandle(k, h, flags)
	}
	v, err := m.value("update", value)
	if err != nil {
		return err
	}
	return m.m.Update(k, v, flags)
}

// handleFor resolves what user space stores in a program array or a map of
// maps to the handle the map holds.
func (m *Map) handleFor(value any) (any, error) {
	var id uint32
	switch v := value.(type) {
	case *Program:
		if m.spec.Type != maps.ProgramArray {
			return nil, fmt.Errorf("%w: a program in a %s", ErrInvalid, m.spec.Type)
		}
		if v.closed.Load() {
			return nil, fmt.Errorf("program %q: %w", v.name, ErrClosed)
		}
		v.coll.arrayed.Store(true)
		return v, m.own(v)
	case *Map:
		if m.spec.Type == maps.ProgramArray {
			return nil, fmt.Errorf("%w: a map in a program array", ErrInvalid)
		}
		if v.released.Load() {
			return nil, fmt.Errorf("map %q: %w", v.name, ErrClosed)
		}
		return v.handle, nil
	default:
		b, err := marshal(value, 4)
		if err != nil {
			return nil, fmt.Errorf("%w: want a *Program, *Map or a 32-bit ID: %w", ErrInvalid, err)
		}
		id = binary.NativeEndian.Uint32(b)
	}
	if m.spec.Type == maps.ProgramArray {
		if p, ok := registry.programs.Load(id); ok {
			p.(*Program).coll.arrayed.Store(true)
			return p, m.own(p.(*Program))
		}
		return nil, fmt.Errorf("%w: no program with ID %d", ErrInvalid, id)
	}
	if mm, ok := registry.maps.Load(id); ok {
		return mm.(*Map).handle, nil
	}
	return nil, fmt.Errorf("%w: no map with ID %d", ErrInvalid, id)
}

// Put sets the value of key, creating or replacing it.
func (m *Map) Put(key, value any) error { return m.Update(key, value, UpdateAny) }

// Delete removes key.
func (m *Map) Delete(key any) error {
	k, err := m.key("delete", key)
	if err != nil {
		return err
	}
	return m.m.Delete(k)
}

// NextKey copies the key after key into nextKeyOut; key nil gives the first.
// At the end it returns ErrKeyNotExist. As in Linux, a key that is not in the
// map also gives the first key of hash maps.
func (m *Map) NextKey(key, nextKeyOut any) error {
	if err := m.closedErr("next key"); err != nil {
		return err
	}
	var k []byte
	if key != nil {
		var err error
		if k, err = m.key("next key", key); err != nil {
			return err
		}
	}
	next := make([]byte, m.spec.KeySize)
	if err := m.m.NextKey(k, next); err != nil {
		return err
	}
	return m.wrap("next key", unmarshal(next, nextKeyOut))
}

// Freeze makes the map read-only for user space, as BPF_MAP_FREEZE does.
func (m *Map) Freeze() error {
	if err := m.closedErr("freeze"); err != nil {
		return err
	}
	return m.m.Freeze()
}

// Frozen reports whether Freeze made the map read-only for user space.
func (m *Map) Frozen() bool { return m.m.Frozen() }

// MapIterator walks a map's keys and values.
type MapIterator struct {
	m   *Map
	it  *maps.Iterator
	key []byte
	val []byte
	err error
}

// Iterate returns an iterator over the map's entries. Entries added or
// removed while iterating may or may not be seen, as with Linux's
// get_next_key walk.
func (m *Map) Iterate() *MapIterator {
	return &MapIterator{m: m, it: maps.Iterate(m.m), key: make([]byte, m.spec.KeySize), val: make([]byte, m.valueSize())}
}

// Next decodes the next entry into keyOut and valueOut and reports whether
// there was one.
func (it *MapIterator) Next(keyOut, valueOut any) bool {
	if it.err == nil {
		it.err = it.m.closedErr("iterate")
	}
	if it.err != nil || !it.it.Next(it.key, it.val) {
		return false
	}
	if err := unmarshal(it.key, keyOut); err != nil {
		it.err = it.m.wrap("iterate", errWrap(err, "key"))
		return false
	}
	if err := it.m.decode("iterate", it.val, valueOut); err != nil {
		it.err = err
		return false
	}
	return true
}

// Err returns the error that stopped the iteration, if any.
func (it *MapIterator) Err() error {
	if it.err != nil {
		return it.err
	}
	return it.m.wrap("iterate", it.it.Err())
}

// BatchUpdate sets many keys at once: keys and values are slices of equal
// length, or for per-CPU maps values may hold Slots() values per key, one
// after the other, as in BatchLookup. It returns how many entries it set
// before an error, if any.
func (m *Map) BatchUpdate(keys, values any, flags MapUpdateFlags) (int, error) {
	ks, vs := reflect.ValueOf(keys), reflect.ValueOf(values)
	if ks.Kind() != reflect.Slice || vs.Kind() != reflect.Slice {
		return 0, m.wrap("batch update", fmt.Errorf("%w: keys and values must be slices", ErrInvalid))
	}
	slots := m.m.Slots()
	flat, err := m.batchLayout("batch update", ks, vs)
	if err != nil {
		return 0, err
	}
	if err := m.closedErr("batch update"); err != nil {
		return 0, err
	}
	for i := 0; i < ks.Len(); i++ {
		v := vs.Index(i).Interface()
		if flat {
			v = vs.Slice(i*slots, (i+1)*slots).Interface()
		}
		if err := m.Update(ks.Index(i).Interface(), v, flags); err != nil {
			return i, err
		}
	}
	return ks.Len(), nil
}

// BatchDelete removes many keys (a slice). It returns how many it removed
// before an error, if any.
func (m *Map) BatchDelete(keys any) (int, error) {
	ks := reflect.ValueOf(keys)
	if ks.Kind() != reflect.Slice {
		return 0, m.wrap("batch delete", fmt.Errorf("%w: keys must be a slice", ErrInvalid))
	}
	if err := m.closedErr("batch delete"); err != nil {
		return 0, err
	}
	for i := 0; i < ks.Len(); i++ {
		if err := m.Delete(ks.Index(i).Interface()); err != nil {
			return i, err
		}
	}
	return ks.Len(), nil
}

// BatchLookup copies up to len(keysOut) entries after cursor into keysOut
// and valuesOut (slices whose elements are pointers' targets, e.g. []uint32
// and []uint64, or [][]byte) and returns how many it copied. For per-CPU
// maps valuesOut holds Slots() values per key, one after the other (as
// cilium/ebpf lays out possible CPUs), or one slice per key ([][]T). A zero
// cursor starts at the first key; it is advanced for the next call; a nil
// cursor is an error. At the end it returns the count and ErrKeyNotExist, as
// BPF_MAP_LOOKUP_BATCH does. The walk follows NextKey: a key deleted while it
// is the cursor's makes a hash map's walk start over (see Iterate), and a
// cursor that took more steps than twice the map's capacity fails with
// ErrIterationAborted, so that a walk ends however much the map changes.
func (m *Map) BatchLookup(cursor *MapBatchCursor, keysOut, valuesOut any) (int, error) {
	return m.batchLookup("batch lookup", cursor, keysOut, valuesOut, false)
}

// BatchLookupAndDelete is BatchLookup that also deletes the entries it
// returns, as BPF_MAP_LOOKUP_AND_DELETE_BATCH does; maps whose entries
// cannot be deleted (arrays) fail as LookupAndDelete does.
func (m *Map) BatchLookupAndDelete(cursor *MapBatchCursor, keysOut, valuesOut any) (int, error) {
	return m.batchLookup("batch lookup and delete", cursor, keysOut, valuesOut, true)
}

func (m *Map) batchLookup(op string, cursor *MapBatchCursor, keysOut, valuesOut any, del bool) (int, error) {
	if cursor == nil {
		return 0, m.wrap(op, fmt.Errorf("%w: nil cursor", ErrInvalid))
	}
	ks, vs := reflect.ValueOf(keysOut), reflect.ValueOf(valuesOut)
	if ks.Kind() != reflect.Slice || vs.Kind() != reflect.Slice {
		return 0, m.wrap(op, fmt.Errorf("%w: keysOut and valuesOut must be slices", ErrInvalid))
	}
	slots := m.m.Slots()
	flat, err := m.batchLayout(op, ks, vs)
	if err != nil {
		return 0, err
	}
	if err := m.closedErr(op); err != nil {
		return 0, err
	}
	key := make([]byte, m.spec.KeySize)
	val := make([]byte, m.valueSize())
	n := 0
	// A cursor's walk ends even if the map changes under it all the time
	// (each deleted cursor key starts a hash map's walk over): after as
	// many steps as Iterate takes, it fails with ErrIterationAborted.
	limit := 2*uint64(m.spec.MaxEntries) + 16
	for n < ks.Len() {
		if cursor.steps++; cursor.steps > limit {
			return n, m.wrap(op, fmt.Errorf("%w after %d steps", ErrIterationAborted, limit))
		}
		var prev []byte
		if cursor.started {
			prev = cursor.key
		}
		if err := m.m.NextKey(prev, key); err != nil {
			if errors.Is(err, ErrKeyNotExist) {
				return n, m.wrap(op, ErrKeyNotExist)
			}
			return n, m.wrap(op, err)
		}
		cursor.started, cursor.key = true, append(cursor.key[:0], key...)
		if del {
			err = m.m.LookupAndDelete(key, val)
		} else {
			err = m.m.Lookup(key, val)
		}
		if errors.Is(err, ErrKeyNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return n, m.wrap(op, err)
		}
		if err := unmarshal(key, ks.Index(n).Addr().Interface()); err != nil {
			return n, m.wrap(op, errWrap(err, "key"))
		}
		out := vs.Index(n).Addr().Interface()
		if flat {
			out = vs.Slice(n*slots, (n+1)*slots).Interface()
		}
		if err := m.decode(op, val, out); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// batchLayout checks that the values of a batch match its keys, one per key,
// or for per-CPU maps, flat (it reports which), Slots() values per key one
// after the other, as cilium/ebpf lays out possible CPUs.
func (m *Map) batchLayout(op string, ks, vs reflect.Value) (flat bool, err error) {
	slots := m.m.Slots()
	flat = m.spec.Type.PerCPU() && vs.Type().Elem().Kind() != reflect.Slice
	switch {
	case flat && vs.Len() != ks.Len()*slots:
		return flat, m.wrap(op, fmt.Errorf("%w: %d keys need %d per-CPU values (%d slots each), have %d", ErrInvalid, ks.Len(), ks.Len()*slots, slots, vs.Len()))
	case !flat && vs.Len() != ks.Len():
		return flat, m.wrap(op, fmt.Errorf("%w: keys and values must be slices of the same length", ErrInvalid))
	}
	return flat, nil
}

// MapBatchCursor remembers where a BatchLookup stopped. Its zero value starts
// at the first key.
type MapBatchCursor struct {
	started bool
	key     []byte
	steps   uint64 // NextKey calls, bounded as Iterate's
}
