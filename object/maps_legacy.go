package object

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"

	"github.com/cilium/ebpf"
)

// Legacy map definitions start with the 20 bytes of libbpf's struct
// bpf_map_def (type, key size, value size, max entries, flags). Two layouts
// add fields after them:
//   - Linux samples/bpf (bpf_load.h): inner_map_idx, the index in the maps
//     section of a map-in-map's inner map, then numa_node (24 or 28 bytes);
//   - iproute2 (struct bpf_elf_map): id, pinning, inner_id, inner_idx (up
//     to 36 bytes).
//
// Both exist at 24 and 28 bytes. A section whose maps include a map-in-map
// or ask for a NUMA node (BPF_F_NUMA_NODE) is read as samples/bpf's: at
// those sizes iproute2 has no way to give a map-in-map its inner map.
// Anything else longer than 20 bytes is read as iproute2's. Bytes past the
// fields of the layout must be zero.
const (
	legacyDefSize        = 20
	samplesDefSize       = 28
	iprouteDefSize       = 36
	mapTypeArrayOfMaps   = 12
	mapTypeHashOfMaps    = 13
	mapTypeProgArray     = 3
	flagNUMANode         = 4 // BPF_F_NUMA_NODE
	iprouteNoInnerIndex  = 0xffffffff
	iproutePinGlobalNS   = 2
	legacyLayoutSamples  = "samples/bpf"
	legacyLayoutIproute2 = "iproute2"
)

func isMapInMap(t uint32) bool { return t == mapTypeArrayOfMaps || t == mapTypeHashOfMaps }

// mapExtra returns the bytes of a legacy definition past its first 20,
// without consuming the spec's reader.
func mapExtra(ms *ebpf.MapSpec) ([]byte, error) {
	if ms.Extra == nil {
		return nil, nil
	}
	r := ms.Extra
	buf := make([]byte, r.Size())
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return buf, nil
}

// applyLegacyMaps reads the extra fields of legacy definitions into the
// converted maps (sorted by name) and resolves what they say: inner maps
// and the maps stored in map-in-maps.
func applyLegacyMaps(out []*MapSpec, in map[string]*ebpf.MapSpec, legacy *legacyInfo) error {
	byName := func(name string) *MapSpec {
		i, ok := slices.BinarySearchFunc(out, name, func(m *MapSpec, n string) int { return cmp.Compare(m.Name, n) })
		if !ok {
			return nil
		}
		return out[i]
	}
	if legacy == nil {
		// No ELF to say how the definitions are laid out: their tails
		// must be empty.
		for _, m := range out {
			extra, err := mapExtra(in[m.Name])
			if err != nil {
				return fmt.Errorf("map %q: %w", m.Name, err)
			}
			if slices.ContainsFunc(extra, func(b byte) bool { return b != 0 }) {
				return fmt.Errorf("map %q: %d-byte legacy definition with non-zero fields past the first 20: %w (load the ELF object to read them)",
					m.Name, legacyDefSize+len(extra), ErrNotSupported)
			}
		}
		return nil
	}
	for _, sec := range legacy.mapSections {
		maps := make([]*MapSpec, len(sec.maps))
		layout := ""
		for i, name := range sec.maps {
			if maps[i] = byName(name); maps[i] == nil {
				return fmt.Errorf("%w: section %q: map %q was not read", ErrInvalidObject, sec.name, name)
			}
			if sec.defSize <= samplesDefSize && (isMapInMap(maps[i].Type) || maps[i].Flags&flagNUMANode != 0) {
				layout = legacyLayoutSamples
			}
		}
		if layout == "" && sec.defSize > legacyDefSize {
			layout = legacyLayoutIproute2
		}
		for i, m := range maps {
			extra, err := mapExtra(in[m.Name])
			if err != nil {
				return fmt.Errorf("map %q: %w", m.Name, err)
			}
			if err := m.readLegacyFields(extra, layout, maps); err != nil {
				return fmt.Errorf("map %q (definition %d of section %q, %s layout of %d bytes): %w",
					m.Name, i, sec.name, cmp.Or(layout, "bpf_map_def"), sec.defSize, err)
			}
		}
		if layout == legacyLayoutIproute2 {
			if err := resolveIproute2Maps(maps); err != nil {
				return fmt.Errorf("section %q: %w", sec.name, err)
			}
		}
	}
	return nil
}

// readLegacyFields interprets the bytes of a definition past its first 20.
func (m *MapSpec) readLegacyFields(extra []byte, layout string, section []*MapSpec) error {
	words := len(extra) / 4
	word := func(i int) uint32 {
		if i < words {
			return binary.LittleEndian.Uint32(extra[4*i:])
		}
		return 0
	}
	known := 0
	switch layout {
	case legacyLayoutSamples:
		known = 2
		if isMapInMap(m.Type) {
			idx := word(0)
			if int(idx) >= len(section) || section[idx] == m {
				return fmt.Errorf("%w: inner_map_idx %d does not name another map of the section", ErrInvalidObject, idx)
			}
			inner := section[idx]
			if isMapInMap(inner.Type) {
				return fmt.Errorf("inner map %q is itself a map-in-map: %w", inner.Name, ErrNotSupported)
			}
			m.InnerMap = inner.Copy()
			m.InnerMap.Contents = nil
			// samples/bpf's loader creates map-in-maps with 4-byte values
			// (map ids) whatever the definition says.
			m.ValueSize = 4
		}
		if m.Flags&flagNUMANode != 0 {
			m.NumaNode = word(1)
		}
	case legacyLayoutIproute2:
		known = 4
		m.ID, m.ElfPinning, m.InnerID, m.InnerIndex = word(0), word(1), word(2), word(3)
		if m.ElfPinning == iproutePinGlobalNS {
			m.Pinning = PinByName
		}
	}
	for i := 4 * known; i < len(extra); i++ {
		if extra[i] != 0 {
			return fmt.Errorf("%w: non-zero byte at offset %d of the definition, past the fields this layout knows",
				ErrInvalidObject, legacyDefSize+i)
		}
	}
	return nil
}

// resolveIproute2Maps does what iproute2 does with ids when it creates the
// maps of a section: a map-in-map gets the map whose id is its inner_id as
// its inner map template, and every map with an id and an inner_idx other
// than -1 is stored at that index of the map-in-maps whose inner_id is its
// id.
func resolveIproute2Maps(maps []*MapSpec) error {
	byID := map[uint32]*MapSpec{}
	for _, m := range maps {
		if m.ID == 0 {
			continue
		}
		if other := byID[m.ID]; other != nil {
			return fmt.Errorf("%w: maps %q and %q share id %d", ErrInvalidObject, other.Name, m.Name, m.ID)
		}
		byID[m.ID] = m
	}
	for _, outer := range maps {
		if !isMapInMap(outer.Type) {
			continue
		}
		inner := byID[outer.InnerID]
		if outer.InnerID == 0 || inner == nil {
			return fmt.Errorf("%w: map-in-map %q: no map has its inner_id %d, so it has no inner map",
				ErrInvalidObject, outer.Name, outer.InnerID)
		}
		if isMapInMap(inner.Type) {
			return fmt.Errorf("map-in-map %q: inner map %q is itself a map-in-map: %w", outer.Name, inner.Name, ErrNotSupported)
		}
		outer.InnerMap = inner.Copy()
		outer.InnerMap.Contents = nil
	}
	for _, m := range maps {
		if m.ID == 0 || m.InnerID != 0 || m.InnerIndex == iprouteNoInnerIndex {
			continue
		}
		for _, outer := range maps {
			if !isMapInMap(outer.Type) || outer.InnerID != m.ID {
				continue
			}
			if err := outer.store(m.InnerIndex, m.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// store adds a static initialiser to a prog array or map-in-map.
func (m *MapSpec) store(index uint32, name string) error {
	if index >= m.MaxEntries {
		return fmt.Errorf("%w: %q at index %d of map %q, which has %d entries", ErrInvalidObject, name, index, m.Name, m.MaxEntries)
	}
	for _, kv := range m.Contents {
		if kv.Key == index && kv.Value != name {
			return fmt.Errorf("%w: map %q: index %d holds both %q and %q", ErrInvalidObject, m.Name, index, kv.Value, name)
		}
	}
	m.Contents = append(m.Contents, MapKV{Key: index, Value: name})
	slices.SortFunc(m.Contents, func(a, b MapKV) int { return cmp.Compare(a.Key, b.Key) })
	m.Contents = slices.CompactFunc(m.Contents, func(a, b MapKV) bool { return a == b })
	return nil
}

// tailCallSection matches iproute2's tail-call sections "N/M".
var tailCallSection = regexp.MustCompile(`^([0-9]+)/([0-9]+)$`)

// placeTailCalls stores every program of an iproute2 tail-call section
// "N/M" at index M of the prog array whose id is N, as tc does when it
// loads the object.
func placeTailCalls(spec *Spec) error {
	for _, p := range spec.Programs {
		sub := tailCallSection.FindStringSubmatch(p.Section)
		if sub == nil {
			continue
		}
		id, err1 := strconv.ParseUint(sub[1], 10, 32)
		index, err2 := strconv.ParseUint(sub[2], 10, 32)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("%w: section %q: tail-call key out of range", ErrInvalidObject, p.Section)
		}
		var array *MapSpec
		for _, m := range spec.Maps {
			if m.ID == uint32(id) && m.Type == mapTypeProgArray {
				array = m
			}
		}
		if array == nil {
			return fmt.Errorf("%w: section %q: an iproute2 tail call into the prog array with id %d, but no prog array has that id",
				ErrInvalidObject, p.Section, id)
		}
		if err := array.store(uint32(index), p.Name); err != nil {
			return fmt.Errorf("section %q: %w", p.Section, err)
		}
	}
	return nil
}
