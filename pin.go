package bpfhost

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
)

// Pinning in the in-process API (docs/decisions/0019-in-process-pins.md).
//
// A pin is a name in a namespace of this process: no file is created, and
// pins and the maps they hold end with the process (the daemon keeps pins
// across processes and restarts: package daemon). A pinned map outlives the
// collection that created it: the next collection whose MapSpec has
// Pinning PinByName under the same CollectionOptions.PinPath uses it
// instead of creating one, as cilium/ebpf does with a bpffs. Handles share
// the map's memory; the memory is released when the last holder (a
// collection, a pin or a LoadPinnedMap handle) lets it go.

// PinByName and PinNone are the values of MapSpec.Pinning.
const (
	PinNone   = object.PinNone
	PinByName = object.PinByName
)

// Pinning says whether a map is pinned by name (MapSpec.Pinning).
type Pinning = object.Pinning

// ErrMapIncompatible is wrapped by the error of a collection whose map
// differs from the map pinned under its name.
var ErrMapIncompatible = errors.New("map spec is incompatible with the pinned map")

// mapShare is what the handles of one map share: the number of holders.
type mapShare struct {
	refs int // under pinNS.mu
}

// pinNS is the process's pin namespace.
var pinNS struct {
	mu   sync.Mutex
	pins map[string]*Map // a handle held by the pin
}

// release lets go of one handle; the last one closes the map.
func (m *Map) release() error {
	pinNS.mu.Lock()
	defer pinNS.mu.Unlock()
	return m.releaseLocked()
}

func (m *Map) releaseLocked() error {
	if m.m == nil || m.released.Load() {
		return nil
	}
	m.released.Store(true)
	m.share.refs--
	if m.share.refs > 0 {
		return nil
	}
	unregisterMap(m)
	return m.m.Close()
}

// handleLocked returns a new handle of m. pinNS.mu is held.
func (m *Map) handleLocked() *Map {
	h := &Map{name: m.name, m: m.m, spec: m.spec, handle: m.handle, id: m.id, share: m.share, memFile: m.memFile}
	m.share.refs++
	return h
}

func checkPinName(p string) error {
	if p == "" || !path.IsAbs(p) || path.Clean(p) != p || p == "/" || strings.ContainsRune(p, 0) {
		return fmt.Errorf("%w: pin path %q: want an absolute, clean path below /", ErrInvalid, p)
	}
	return nil
}

// Pin pins the map at fileName, an absolute path in the process's pin
// namespace; the pin holds the map until Unpin.
func (m *Map) Pin(fileName string) error {
	if err := checkPinName(fileName); err != nil {
		return err
	}
	pinNS.mu.Lock()
	defer pinNS.mu.Unlock()
	if m.released.Load() {
		return m.wrap("pin", ErrClosed)
	}
	if _, ok := pinNS.pins[fileName]; ok {
		return fmt.Errorf("pin %s: %w", fileName, ErrKeyExist)
	}
	if pinNS.pins == nil {
		pinNS.pins = map[string]*Map{}
	}
	pinNS.pins[fileName] = m.handleLocked()
	return nil
}

// Unpin removes the pin at fileName; the map goes when nothing else holds
// it.
func Unpin(fileName string) error {
	pinNS.mu.Lock()
	defer pinNS.mu.Unlock()
	h, ok := pinNS.pins[fileName]
	if !ok {
		return fmt.Errorf("pin %s: %w", fileName, ErrKeyNotExist)
	}
	delete(pinNS.pins, fileName)
	return h.releaseLocked()
}

// LoadPinnedMap returns a handle of the map pinned at fileName, which the
// caller closes with Close.
func LoadPinnedMap(fileName string) (*Map, error) {
	pinNS.mu.Lock()
	defer pinNS.mu.Unlock()
	h, ok := pinNS.pins[fileName]
	if !ok {
		return nil, fmt.Errorf("pin %s: %w", fileName, ErrKeyNotExist)
	}
	nh := h.handleLocked()
	nh.user = true
	return nh, nil
}

// Close releases a handle that LoadPinnedMap, Clone, NewMap, LoadAndAssign
// or a lookup into a **Map returned; a second Close returns nil. The maps
// of a collection are released by Collection.Close: Close on one of them is
// an error, as its programs still use it.
func (m *Map) Close() error {
	if !m.user {
		return fmt.Errorf("%w: map %q belongs to a collection: close the collection", ErrInvalid, m.name)
	}
	return errors.Join(m.release(), closeAssigned(m))
}

// pinnable refuses the maps whose entries refer to a collection's programs
// or maps, or run its callbacks: they cannot outlive it.
func pinnable(ms *MapSpec) error {
	switch maps.Type(ms.Type) {
	case maps.ProgramArray, maps.ArrayOfMaps, maps.HashOfMaps:
		return fmt.Errorf("%w: map %q: pinning a %s in-process", ErrNotSupported, ms.Name, MapType(ms.Type))
	}
	if ms.HasTimer {
		return fmt.Errorf("%w: map %q: pinning a map with timers in-process", ErrNotSupported, ms.Name)
	}
	if ms.IsGlobalData() {
		return fmt.Errorf("%w: map %q: pinning global data", ErrInvalid, ms.Name)
	}
	return nil
}

// pinnedFor returns a new handle of the map pinned for ms under pinPath,
// or nil if none is. pinNS.mu is not held.
func pinnedFor(ms *MapSpec, pinPath string, slots int) (*Map, string, error) {
	if ms.Pinning != PinByName || pinPath == "" {
		return nil, "", nil
	}
	if err := checkPinName(pinPath); err != nil {
		return nil, "", err
	}
	if err := pinnable(ms); err != nil {
		return nil, "", err
	}
	at := path.Join(pinPath, ms.Name)
	pinNS.mu.Lock()
	defer pinNS.mu.Unlock()
	h, ok := pinNS.pins[at]
	if !ok {
		return nil, at, nil
	}
	if err := compatible(ms, h, "pinned at "+at, slots); err != nil {
		return nil, at, err
	}
	return h.handleLocked(), at, nil
}

// compatible checks that the existing map h (described by where, for
// errors) can stand for ms in a collection of slots execution slots.
func compatible(ms *MapSpec, h *Map, where string, slots int) error {
	want := toMapsSpec(ms)
	got := h.spec
	switch {
	case got.Type != want.Type, got.KeySize != want.KeySize, got.ValueSize != want.ValueSize,
		got.MaxEntries != want.MaxEntries, got.Flags != want.Flags:
		return fmt.Errorf("map %q %s (%s, key %d, value %d, %d entries, flags %#x): %w",
			ms.Name, where, MapType(got.Type), got.KeySize, got.ValueSize, got.MaxEntries, got.Flags, ErrMapIncompatible)
	case !sameLayout(got, want):
		// The programs are verified against ms: a bpf_spin_lock or
		// bpf_timer they do not know of could be written as plain data.
		return fmt.Errorf("map %q %s has a bpf_spin_lock or bpf_timer elsewhere than the spec: %w", ms.Name, where, ErrMapIncompatible)
	case (got.InnerMap == nil) != (want.InnerMap == nil) || got.InnerMap != nil && !sameInner(*got.InnerMap, *want.InnerMap):
		// Lookups in the map give maps the programs were verified to
		// find like the spec's template.
		return fmt.Errorf("map %q %s has another inner map template than the spec: %w", ms.Name, where, ErrMapIncompatible)
	case h.Slots() != slots:
		return fmt.Errorf("map %q %s has %d execution slots, the collection %d: %w", ms.Name, where, h.Slots(), slots, ErrMapIncompatible)
	}
	return nil
}

// pinNew pins the maps a collection created, once it is complete. A pin
// taken meanwhile by another collection fails it.
func pinNew(created map[string]*Map) error {
	pinNS.mu.Lock()
	defer pinNS.mu.Unlock()
	for at := range created {
		if _, ok := pinNS.pins[at]; ok {
			return fmt.Errorf("pin %s: taken while the collection loaded: %w", at, ErrKeyExist)
		}
	}
	if pinNS.pins == nil {
		pinNS.pins = map[string]*Map{}
	}
	for at, m := range created {
		pinNS.pins[at] = m.handleLocked()
	}
	return nil
}

// sameLayout reports whether a and b hold a bpf_spin_lock and a bpf_timer
// at the same places.
func sameLayout(a, b maps.Spec) bool {
	return a.HasSpinLock == b.HasSpinLock && (!a.HasSpinLock || a.SpinLockOffset == b.SpinLockOffset) &&
		a.HasTimer == b.HasTimer && (!a.HasTimer || a.TimerOffset == b.TimerOffset)
}

// sameInner reports whether two inner map templates describe the same maps
// (their names aside).
func sameInner(a, b maps.Spec) bool {
	return a.Type == b.Type && a.KeySize == b.KeySize && a.ValueSize == b.ValueSize && a.MaxEntries == b.MaxEntries &&
		a.Flags == b.Flags && a.MapExtra == b.MapExtra && a.InnerMap == nil && b.InnerMap == nil && sameLayout(a, b)
}
