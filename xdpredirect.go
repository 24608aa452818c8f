package bpfhost

import (
	"encoding/binary"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
)

// XDPRedirect is the target an XDP program chose with a redirect helper.
// Hooks resolve it with its methods, which read devmap and cpumap entries
// in place: nothing is allocated per frame.
type XDPRedirect struct {
	// Ifindex is bpf_redirect's interface index, or bpf_redirect_map's key.
	Ifindex uint32
	// key is Ifindex as a map key: a lookup through the map's interface
	// makes its key escape, and a key in the frame's memory (already on
	// the heap) costs no allocation per frame (DESIGN.md #8).
	key [4]byte
	// Flags are bpf_redirect_map's flags (BPF_F_BROADCAST,
	// BPF_F_EXCLUDE_INGRESS).
	Flags uint64
	// m is bpf_redirect_map's map (a devmap, devmap_hash or cpumap); nil
	// for bpf_redirect.
	m maps.Map
}

// XDPMapRedirect is the redirect bpf_redirect_map(m, key, flags) chooses,
// for hooks that hand frames on without running a program (and their
// tests).
func XDPMapRedirect(m *Map, key uint32, flags uint64) XDPRedirect {
	return XDPRedirect{Ifindex: key, Flags: flags, m: m.m}
}

// MapType is the type of bpf_redirect_map's map (MapDevMap, MapDevMapHash,
// MapCPUMap), or 0 for bpf_redirect.
func (r *XDPRedirect) MapType() MapType {
	if r.m == nil {
		return 0
	}
	return MapType(r.m.Spec().Type)
}

// devMap returns r's map if it is a devmap or devmap_hash.
func (r *XDPRedirect) devMap() (maps.ElemMap, bool) {
	if r.m == nil {
		return nil, false
	}
	em, ok := r.m.(maps.ElemMap)
	t := r.m.Spec().Type
	return em, ok && (t == maps.DevMap || t == maps.DevMapHash)
}

// DevMapTarget resolves a redirect to an interface: bpf_redirect's
// interface, or the interface and the entry's program (nil: none) of the
// devmap or devmap_hash entry bpf_redirect_map named, as slot sees it. ok
// is false if there is no such entry or the map is of another type (a
// cpumap: see CPUMapEntry).
func (r *XDPRedirect) DevMapTarget(slot int) (ifindex uint32, prog *Program, ok bool, err error) {
	if r.m == nil {
		return r.Ifindex, nil, true, nil
	}
	em, ok := r.devMap()
	if !ok {
		return 0, nil, false, nil
	}
	p := r.entry(em, slot)
	if p == nil {
		return 0, nil, false, nil
	}
	ifindex, prog, err = devValue(r.m, p)
	return ifindex, prog, err == nil, err
}

// XDPDevMapEntry is an entry of a devmap or devmap_hash: where a broadcast
// sends a copy of a frame.
type XDPDevMapEntry struct {
	// Ifindex is the entry's interface.
	Ifindex uint32
	// Program is the entry's program (struct bpf_devmap_val), or nil.
	Program *Program
	// Err is why the entry's program could not be resolved.
	Err error
}

// AppendDevMapEntries appends the entries of a devmap or devmap_hash
// redirect to dst, as slot sees them, for a broadcast (BPF_F_BROADCAST);
// a hook that reuses dst allocates nothing for them. ok is false, and dst
// is returned as it was, for bpf_redirect and other map types.
func (r *XDPRedirect) AppendDevMapEntries(dst []XDPDevMapEntry, slot int) (_ []XDPDevMapEntry, ok bool) {
	em, ok := r.devMap()
	if !ok {
		return dst, false
	}
	m := r.m
	em.ForEach(slot, func(_, v unsafe.Pointer) bool {
		index, prog, err := devValue(m, v)
		dst = append(dst, XDPDevMapEntry{index, prog, err})
		return true
	})
	return dst, true
}

// devValue decodes a devmap or devmap_hash value: the interface index and,
// in a struct bpf_devmap_val, the entry's program (bpfhost takes a program
// ID where Linux takes a file descriptor; 0: none).
func devValue(m maps.Map, v unsafe.Pointer) (uint32, *Program, error) {
	var val [8]byte
	n := min(int(m.Spec().ValueSize), 8)
	maps.LoadValue(val[:n], v)
	index := binary.NativeEndian.Uint32(val[:])
	if n < 8 {
		return index, nil, nil
	}
	id := binary.NativeEndian.Uint32(val[4:])
	if id == 0 {
		return index, nil, nil
	}
	prog, err := XDPEntryProgram(id, true)
	return index, prog, err
}

// CPUMapEntry reads the cpumap entry a redirect names (its key is the
// CPU): the queue size and the entry's program (struct bpf_cpumap_val;
// bpfhost takes a program ID where Linux takes a file descriptor). ok is
// false without an entry, for bpf_redirect and other map types.
func (r *XDPRedirect) CPUMapEntry(slot int) (qsize int, prog *Program, ok bool, err error) {
	if r.m == nil || r.m.Spec().Type != maps.CPUMap {
		return 0, nil, false, nil
	}
	em, isElem := r.m.(maps.ElemMap)
	if !isElem {
		return 0, nil, false, nil
	}
	p := r.entry(em, slot)
	if p == nil {
		return 0, nil, false, nil
	}
	var val [8]byte
	n := min(int(r.m.Spec().ValueSize), 8)
	maps.LoadValue(val[:n], p)
	qsize = int(binary.NativeEndian.Uint32(val[:]))
	if n == 8 {
		if id := binary.NativeEndian.Uint32(val[4:]); id != 0 {
			if prog, err = XDPEntryProgram(id, false); err != nil {
				return 0, nil, false, err
			}
		}
	}
	return qsize, prog, qsize > 0, nil
}

// entry is the value of the redirect map's entry for r.Ifindex (the key
// bpf_redirect_map named), as slot sees it; nil if there is none.
func (r *XDPRedirect) entry(em maps.ElemMap, slot int) unsafe.Pointer {
	binary.NativeEndian.PutUint32(r.key[:], r.Ifindex)
	return em.LookupPtr(r.key[:], slot)
}
