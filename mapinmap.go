package bpfhost

import (
	"encoding/binary"
	"fmt"

	"github.com/bpfhost/bpfhost/maps"
)

// innerMap decodes a value of a map of maps (an inner map's ID) into a new
// handle of that map, for valueOut of type **Map, as cilium/ebpf makes a
// *Map from the ID the kernel reports. The caller closes it. An inner map
// closed meanwhile is ErrKeyNotExist, as its ID no longer names a map.
func (m *Map) innerMap(b []byte, out **Map) error {
	if out == nil {
		return fmt.Errorf("%w: nil **Map", ErrInvalid)
	}
	id := binary.NativeEndian.Uint32(b)
	pinNS.mu.Lock()
	defer pinNS.mu.Unlock()
	// The last holder's release runs under pinNS.mu too: a map found
	// here is not closed before handleLocked takes its share.
	v, ok := registry.maps.Load(id)
	if !ok {
		return fmt.Errorf("inner map ID %d: %w", id, ErrKeyNotExist)
	}
	h := v.(*Map).handleLocked()
	h.user = true
	*out = h
	return nil
}

// isMapOfMaps reports whether values of m are inner maps.
func (m *Map) isMapOfMaps() bool {
	return m.spec.Type == maps.ArrayOfMaps || m.spec.Type == maps.HashOfMaps
}
