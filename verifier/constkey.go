package verifier

// Array lookups that cannot fail. Linux (6.14 and later) types the result of
// bpf_map_lookup_elem on an array or per-CPU array as a map value that is
// not NULL when the key on the stack is a constant below max_entries, which
// it finds for a zeroed key: such a lookup always finds its element.
// Programs written for those kernels drop the NULL check (per-CPU scratch
// buffers at index 0).

// inBoundsArrayKey reports whether the key argument in register r of a
// lookup in map region points to a 4-byte constant on the stack that is an
// index of the map, itself an array or per-CPU array that the program
// names directly (an inner map's template says nothing of the inner
// map that is found at run time).
func (e *exec) inBoundsArrayKey(s *state, r int, region int32) bool {
	if region < 0 || int(region) >= len(e.a.opts.Maps) || e.a.joinedMapPtr(region) {
		return false
	}
	mi := e.a.maps[region]
	mt, ok := e.a.opts.ABI.MapType(mi.Type)
	if !ok || (mt.Name != "array" && mt.Name != "percpu_array") || mi.KeySize != 4 {
		return false
	}
	v := s.regs[r]
	if v.kind != kStack || int(v.region) >= len(s.frames) {
		return false
	}
	off := s.ival(r)
	if !off.isConst() {
		return false
	}
	f := s.frames[v.region]
	i := f.find(int(off.smin))
	// A spill of the key's own width, as Linux's get_constant_map_key
	// requires (spill_size == key_size): an 8-byte spill of 0 read as a
	// 4-byte key is safe too, but Linux keeps the NULL check there.
	if i < 0 || f.spill[i].size != 4 || f.spill[i].v.kind != kScalar {
		return false
	}
	sp := f.spill[i]
	key := s.ivalAt(locSpill(int(v.region), int(sp.off)), sp.v)
	if !key.isConst() {
		return false
	}
	// The first 4 bytes of the slot, little-endian: the low half. Only
	// key 0 is taken: Linux 6.18 keeps the NULL check for other constants
	// a program stores (and the kernel differential holds bpfhost to
	// accepting nothing more there), though they would be as safe.
	k := uint32(key.umin)
	return k == 0 && k < mi.MaxEntries
}
