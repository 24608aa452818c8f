package bpfhost

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
)

// A map pointer in a program register (from an lddw of a map, or returned by
// a lookup in a map of maps) is the address of the map's mapHandle: a small
// heap object that never moves and lives as long as the map. Helpers turn it
// back into the map through the registry, which also tells checked runs
// whether a register really names a map.
//
// It embeds the map, so that a map of maps can check a handle against its
// inner-map template and report its ID.
type mapHandle struct {
	maps.Map
	m *Map
}

// ID returns the map's ID, which user-space lookups in maps of maps return.
func (h *mapHandle) ID() uint32 { return h.m.id }

func (h *mapHandle) ptr() uint64 { return uint64(uintptr(unsafe.Pointer(h))) }

// registry holds every live map handle of the process (inner maps may come
// from other collections) and every program and map by ID. Handles are in a
// concurrent map, so lookups take no lock and registering or removing one
// costs the same however many maps exist (a copied snapshot made creating
// N maps cost O(N^2)).
var registry struct {
	handles  sync.Map // uint64 (handle address) -> *mapHandle
	nextID   atomic.Uint32
	programs sync.Map // uint32 -> *Program
	maps     sync.Map // uint32 -> *Map
}

func registerMap(m *Map) {
	m.handle = &mapHandle{Map: m.m, m: m}
	m.id = registry.nextID.Add(1)
	registry.maps.Store(m.id, m)
	registry.handles.Store(m.handle.ptr(), m.handle)
}

func unregisterMap(m *Map) {
	registry.maps.Delete(m.id)
	if m.handle != nil {
		registry.handles.CompareAndDelete(m.handle.ptr(), m.handle)
	}
}

func lookupHandle(ptr uint64) (*mapHandle, bool) {
	v, ok := registry.handles.Load(ptr)
	if !ok {
		return nil, false
	}
	return v.(*mapHandle), true
}
