package object

import "encoding/binary"

// libbpf reads a BTF map definition's __uint(numa_node, N) (Linux's
// samples/bpf map_perf_test does, with BPF_F_NUMA_NODE); cilium/ebpf's
// reader refuses the member as an unrecognized field. patchBTFMapNumaNodes
// takes the value out of the raw .BTF and turns the member into a second
// copy of the definition's 'type' member (same name, same type), which the
// reader reads again to the same effect; the value comes back into the
// map's MapSpec.NumaNode after the reader is done (applyBTFNumaNodes).

// patchBTFMapNumaNodes rewrites the numa_node members of the .maps
// definitions and returns their values by map name. Inner map definitions
// ('values' of a map-in-map) lose theirs: an inner map is created by the
// runtime, whose memory is not per NUMA node.
func (img *elfImage) patchBTFMapNumaNodes() map[string]uint32 {
	t := img.rawBTFTypes()
	if t == nil {
		return nil
	}
	var nodes map[string]uint32
	t.eachMapDef(func(name string, def uint32) {
		if node, ok := t.patchNumaNode(def, true); ok {
			if nodes == nil {
				nodes = map[string]uint32{}
			}
			nodes[name] = node
		}
	})
	return nodes
}

// patchNumaNode rewrites the numa_node member of the map definition def
// (and of its inner map definition, when outer) and returns its value.
func (t *btfTypes) patchNumaNode(def uint32, outer bool) (node uint32, found bool) {
	le := binary.LittleEndian
	if t.kind(def) != btfKindStruct {
		return 0, false
	}
	members := t.rec(def)[12:]
	var typeMember []byte
	for m := 0; m < t.vlen(def); m++ {
		if string(t.name(le.Uint32(members[12*m:]))) == "type" {
			typeMember = members[12*m:]
		}
	}
	for m := 0; m < t.vlen(def); m++ {
		member := members[12*m:]
		switch string(t.name(le.Uint32(member))) {
		case "numa_node":
			if typeMember == nil {
				continue // the reader rejects the definition without a type anyway
			}
			// __uint(numa_node, N): a pointer to an array of N ints.
			if ptr := t.skipMods(le.Uint32(member[4:])); t.kind(ptr) == btfKindPtr {
				if arr := t.skipMods(le.Uint32(t.rec(ptr)[8:])); t.kind(arr) == btfKindArray {
					node, found = le.Uint32(t.rec(arr)[20:]), true
				}
			}
			copy(member[:8], typeMember[:8]) // name and type; the offset stays
		case "values":
			if !outer {
				continue
			}
			arr := t.skipMods(le.Uint32(member[4:]))
			if t.kind(arr) != btfKindArray {
				continue
			}
			ptr := t.skipMods(le.Uint32(t.rec(arr)[12:]))
			if t.kind(ptr) == btfKindPtr {
				t.patchNumaNode(t.skipMods(le.Uint32(t.rec(ptr)[8:])), false)
			}
		}
	}
	return node, found
}

// applyBTFNumaNodes sets the NUMA node of the maps whose BTF definitions
// gave one.
func applyBTFNumaNodes(maps []*MapSpec, nodes map[string]uint32) {
	for _, m := range maps {
		if node, ok := nodes[m.Name]; ok {
			m.NumaNode = node
		}
	}
}
