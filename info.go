package bpfhost

import (
	"fmt"
	"sort"

	"github.com/bpfhost/bpfhost/maps"
)

// MapInfo describes a map, as cilium/ebpf's MapInfo (BPF_OBJ_GET_INFO_BY_FD)
// does.
type MapInfo struct {
	Type       MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	// Name is the map's name; global data maps are named by section.
	Name string
	id   uint32
}

// ID returns the map's process-wide ID; ok is always true in bpfhost.
func (mi *MapInfo) ID() (id uint32, ok bool) { return mi.id, true }

// Info returns what the map is. A closed handle fails with ErrClosed.
func (m *Map) Info() (*MapInfo, error) {
	if err := m.closedErr("info"); err != nil {
		return nil, err
	}
	return &MapInfo{Type: MapType(m.spec.Type), KeySize: m.spec.KeySize, ValueSize: m.spec.ValueSize,
		MaxEntries: m.spec.MaxEntries, Flags: m.spec.Flags, Name: m.name, id: m.id}, nil
}

// Clone returns a new handle of the map, as duplicating its descriptor
// does in cilium/ebpf: it keeps the map alive after the collection closes,
// until the handle's own Close. The maps whose entries refer to the
// collection's programs or maps, or run its timers' callbacks, cannot
// outlive it and are not cloned (ErrNotSupported), as they are not pinned.
func (m *Map) Clone() (*Map, error) {
	switch {
	case m.spec.Type == maps.ProgramArray || m.spec.Type == maps.ArrayOfMaps || m.spec.Type == maps.HashOfMaps:
		return nil, fmt.Errorf("map %q: clone: %w: a %s refers to its collection's objects", m.name, ErrNotSupported, m.Type())
	case m.spec.HasTimer:
		return nil, fmt.Errorf("map %q: clone: %w: a map with timers", m.name, ErrNotSupported)
	}
	pinNS.mu.Lock()
	defer pinNS.mu.Unlock()
	if m.released.Load() {
		return nil, m.wrap("clone", ErrClosed)
	}
	h := m.handleLocked()
	h.user = true
	return h, nil
}

// ProgramInfo describes a loaded program, as cilium/ebpf's ProgramInfo does.
type ProgramInfo struct {
	// Name is the program's function name.
	Name string
	// Type is the program type's name ("xdp", "socket_filter", ...).
	Type string
	// Section is the ELF section the program came from.
	Section string
	id      uint32
	mapIDs  []uint32
}

// ID returns the program's process-wide ID; ok is always true in bpfhost.
func (pi *ProgramInfo) ID() (id uint32, ok bool) { return pi.id, true }

// MapIDs returns the IDs of the maps the program refers to, in increasing
// order; ok is always true in bpfhost.
func (pi *ProgramInfo) MapIDs() (ids []uint32, ok bool) { return pi.mapIDs, true }

// Info returns what the program is. A closed program fails with ErrClosed.
func (p *Program) Info() (*ProgramInfo, error) {
	if p.closed.Load() {
		return nil, fmt.Errorf("program %q: info: %w", p.name, ErrClosed)
	}
	seen := map[uint32]bool{}
	var ids []uint32
	for _, r := range p.spec.References {
		m, ok := p.coll.Maps[r.Name]
		if (r.Kind == RefMap || r.Kind == RefMapValue) && ok && !seen[m.id] {
			seen[m.id] = true
			ids = append(ids, m.id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return &ProgramInfo{Name: p.name, Type: p.info.Name, Section: p.section, id: p.id, mapIDs: ids}, nil
}
