package bpfhost

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit"
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

// host implements helpers.Host for one collection.
type host struct {
	printk func(string)
	// checked: the collection's programs run checked, and so must every
	// program they tail-call.
	checked bool
}

func (h *host) MapOf(ptr uint64) (maps.Map, bool) {
	mh, ok := lookupHandle(ptr)
	if !ok {
		return nil, false
	}
	return mh.m.m, true
}

func (h *host) HandlePtr(v any) uint64 {
	if mh, ok := v.(*mapHandle); ok {
		return mh.ptr()
	}
	return 0
}

func (h *host) TailTarget(v any) (vm.Executable, bool) {
	p, ok := v.(*Program)
	if !ok || p.exe == nil {
		return nil, false
	}
	if (h.checked || p.coll.checked) && p.coll.host != h {
		// Checked runs reach only their own collection's memory, and a
		// trusted program of another collection would run unchecked
		// inside a checked run: tail calls into or out of checked
		// programs stay in one collection, other slots count as empty.
		return nil, false
	}
	return p.exe, true
}

func (h *host) Printk(line string) {
	if h.printk != nil {
		h.printk(line)
	}
}

// inlineMap tells the JIT which map a constant map pointer names, so that it
// can look array and hash map values up in machine code and call other
// maps directly instead of through the helper (vm/jit Options.Maps).
func inlineMap(ptr uint64) (jit.InlineMap, bool) {
	h, ok := lookupHandle(ptr)
	if !ok {
		return jit.InlineMap{}, false
	}
	m := h.m
	switch mm := m.m.(type) {
	case *maps.ArrayMap:
		kind := jit.InlineArray
		if m.spec.Type == maps.PerCPUArray {
			kind = jit.InlinePerCPUArray
		}
		return jit.InlineMap{Kind: kind, Values: mm.ValueMemory(), KeySize: m.spec.KeySize,
			Stride: (m.spec.ValueSize + 7) &^ 7, MaxEntries: m.spec.MaxEntries, Slots: mm.Slots(), Elem: mm}, true
	case *maps.HashMap:
		d := mm.Inline()
		return jit.InlineMap{Kind: jit.InlineHash, Values: mm.ValueMemory(), KeySize: d.KeySize, Slots: d.Slots, Elem: mm,
			Hash: jit.HashTable{
				Heads: uint64(d.Heads), Mask: d.Mask, Elems: uint64(d.Elems), Stride: d.Stride, N: d.N,
				Seed: d.Seed, Mult: d.Mult,
				Stripes: uint64(d.Stripes), StripeSize: d.StripeSize, StripeMask: d.StripeMask, SeqOffset: d.SeqOffset,
				Values: uint64(d.Values), ValueStride: d.ValueStride, SlotStride: d.SlotStride,
				PerCPU: d.PerCPU, LRU: d.LRU, Refs: uint64(d.Refs),
			}}, true
	case maps.ElemMap:
		return jit.InlineMap{Kind: jit.InlineElem, Values: mm.ValueMemory(), KeySize: m.spec.KeySize, Elem: mm}, true
	}
	return jit.InlineMap{}, false
}
