package maps

import (
	"encoding/binary"
	"fmt"
)

// Redirect map types: an XDP program sends a frame to the interface a
// devmap or devmap_hash entry names, or to the CPU a cpumap entry names
// (bpf_redirect_map); the XDP hook (hooks/xdp) reads the entry. Programs
// may look devmap entries up but not change them, as in Linux.
const (
	DevMap     Type = 14 // BPF_MAP_TYPE_DEVMAP
	CPUMap     Type = 16 // BPF_MAP_TYPE_CPUMAP
	DevMapHash Type = 25 // BPF_MAP_TYPE_DEVMAP_HASH
)

// validateDevMap checks a devmap or cpumap spec as dev_map_alloc_check and
// cpu_map_alloc do: u32 keys, and a value of 4 bytes (the ifindex; the
// cpumap's queue size) or 8 (struct bpf_devmap_val or bpf_cpumap_val, with
// a program fd that bpfhost does not run).
func (s *Spec) validateDevMap() error {
	if err := s.checkFlags(FlagNUMANode | flagAccessMask); err != nil {
		return err
	}
	if s.KeySize != 4 {
		return s.invalid("key size %d, want 4", s.KeySize)
	}
	if s.ValueSize != 4 && s.ValueSize != 8 {
		return s.invalid("value size %d, want 4 (ifindex) or 8 (struct bpf_devmap_val)", s.ValueSize)
	}
	return nil
}

// devArray is BPF_MAP_TYPE_DEVMAP (and CPUMAP): a sparse array of
// interfaces (CPUs), keys below max_entries, entries absent until set. It is a hash map that refuses
// keys out of range, as Linux's devmap returns E2BIG for them.
type devArray struct {
	*HashMap
}

func newDevMap(b base) Map {
	h := newHash(b)
	if b.spec.Type == DevMapHash {
		return h
	}
	return &devArray{h}
}

func (d *devArray) inRange(key []byte) bool {
	return len(key) == 4 && binary.NativeEndian.Uint32(key) < d.spec.MaxEntries
}

// Update is BPF_MAP_UPDATE_ELEM; keys at or past max_entries fail with E2BIG.
func (d *devArray) Update(key, value []byte, flags UpdateFlags) error {
	if len(key) == 4 && !d.inRange(key) {
		return opError(d.spec.Name, "update", E2BIG, fmt.Sprintf("key %d, want below max entries %d", binary.NativeEndian.Uint32(key), d.spec.MaxEntries))
	}
	return d.HashMap.Update(key, value, flags)
}

// UpdateElem is bpf_map_update_elem; out-of-range keys return -E2BIG.
func (d *devArray) UpdateElem(key, value []byte, flags uint64, slot int) int64 {
	if !d.inRange(key) {
		return -int64(E2BIG)
	}
	return d.HashMap.UpdateElem(key, value, flags, slot)
}

// DevMapIfindex returns the interface index a devmap or devmap_hash entry
// names, and false if m is not a redirect map to interfaces or key has no
// entry. It does not allocate.
func DevMapIfindex(m Map, key uint32, slot int) (uint32, bool) {
	t := m.Spec().Type
	if t != DevMap && t != DevMapHash {
		return 0, false
	}
	em, ok := m.(ElemMap)
	if !ok {
		return 0, false
	}
	var k [4]byte
	binary.NativeEndian.PutUint32(k[:], key)
	p := em.LookupPtr(k[:], slot)
	if p == nil {
		return 0, false
	}
	return *(*uint32)(p), true
}
