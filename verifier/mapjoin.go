package verifier

import (
	"fmt"
	"sort"

	"github.com/bpfhost/bpfhost/platform"
)

// Map pointers joined across paths. A program that picks one of several
// maps on different paths (`m = cond ? &a : &b; bpf_map_update_elem(m,
// ...)`) passes a map the analysis knows only as one of a set. Linux
// follows each path; bpfhost joins them into a synthetic map id standing
// for the set (analyzer.mapPtrParts), and a helper given such a pointer
// must be valid for every map of the set: the operation allowed on each,
// key and value arguments as long as the longest, the result a value of
// any (analyzer.mergeMaps: the shortest value) or an inner map of any.
// Run time needs nothing: helpers find the map from the pointer itself.

// mergeMapPtrs returns the id of a map pointer standing for either x or y.
func (a *analyzer) mergeMapPtrs(x, y int32) int32 {
	if x == y {
		return x
	}
	ids, key := unionOfMaps(a.ptrParts, x, y)
	key = "ptr" + key
	if id, ok := a.merged[key]; ok {
		return id
	}
	m := &MapInfo{Type: a.maps[ids[0]].Type}
	for i, id := range ids {
		mi := a.maps[id]
		if i > 0 {
			m.Name += " or "
		}
		m.Name += mi.Name
		m.KeySize = max(m.KeySize, mi.KeySize)
		m.ValueSize = max(m.ValueSize, mi.ValueSize)
		m.MaxEntries = max(m.MaxEntries, mi.MaxEntries)
		m.ReadOnlyProg = m.ReadOnlyProg || mi.ReadOnlyProg
		m.WriteOnlyProg = m.WriteOnlyProg || mi.WriteOnlyProg
	}
	id := a.addMap(m)
	if a.merged == nil {
		// mergeMaps sets up both at once.
		a.merged, a.parts = map[string]int32{}, map[int32][]int32{}
	}
	if a.ptrParts == nil {
		a.ptrParts = map[int32][]int32{}
	}
	a.merged[key] = id
	a.ptrParts[id] = ids
	return id
}

// mapPtrParts returns the maps a map pointer's region stands for: itself,
// or the set it was joined from.
func (a *analyzer) mapPtrParts(id int32) []int32 {
	if p, ok := a.ptrParts[id]; ok {
		return p
	}
	return []int32{id}
}

// joinedMapPtr reports whether a map pointer's region stands for a set.
func (a *analyzer) joinedMapPtr(id int32) bool {
	_, ok := a.ptrParts[id]
	return ok
}

// mergeRegions is the merge function of joinTypes: map values of two maps
// are a value of either (mergeMaps), map pointers a pointer to either.
func (a *analyzer) mergeRegions(k kind, x, y int32) int32 {
	if k == kMapPtr {
		return a.mergeMapPtrs(x, y)
	}
	return a.mergeMaps(x, y)
}

// checkMapOp reports a helper that may not operate on some map of the set
// region stands for.
func (e *exec) checkMapOp(pc int, name string, region int32) {
	op, ok := helperMapOps[name]
	if !ok {
		return
	}
	for _, id := range e.a.mapPtrParts(region) {
		mi := e.a.maps[id]
		if mt, ok := e.a.opts.ABI.MapType(mi.Type); ok && mt.Ops&op == 0 {
			e.fail(pc, "%s cannot be used on map %s (a %s map)", name, mi.Name, mt.Name)
		}
	}
}

// anyMapOfType reports whether some map of the set region stands for has
// the ABI's type name.
func (e *exec) anyMapOfType(region int32, typeName string) bool {
	for _, id := range e.a.mapPtrParts(region) {
		if mt, ok := e.a.opts.ABI.MapType(e.a.maps[id].Type); ok && mt.Name == typeName {
			return true
		}
	}
	return false
}

// lookupResult returns what a lookup in the map (or set of maps) region
// returns: the lookup kind all of them share, the map id of the values
// (kMapValue) or of the inner maps (kMapPtr). ok is false, with a reason,
// when there is no such result.
func (e *exec) lookupResult(name string, region int32) (lookup platform.LookupResult, id int32, why string) {
	id = -1
	for i, part := range e.a.mapPtrParts(region) {
		mi := e.a.maps[part]
		l := platform.LookupValue
		if mt, ok := e.a.opts.ABI.MapType(mi.Type); ok && name != "bpf_get_local_storage" && mt.Lookup != platform.LookupNotAllowed {
			l = mt.Lookup
		}
		var pid int32
		switch l {
		case platform.LookupInnerMap:
			if mi.Inner == nil {
				return l, -1, fmt.Sprintf("map %s holds maps but has no inner map template", mi.Name)
			}
			pid = e.a.innerID(mi.Inner)
		case platform.LookupValue, platform.LookupXDPSock:
			pid = part
		default:
			return l, -1, fmt.Sprintf("%s on map %s returns a socket, which bpfhost does not support", name, mi.Name)
		}
		if i == 0 {
			lookup, id = l, pid
			continue
		}
		if l != lookup {
			return l, -1, fmt.Sprintf("%s on one of the maps %s: they return different kinds of values", name, e.a.maps[region].Name)
		}
		switch l {
		case platform.LookupInnerMap:
			id = e.a.mergeMapPtrs(id, pid)
		case platform.LookupXDPSock:
			// Every xskmap's sockets are struct bpf_xdp_sock: the first
			// map stands for all.
		default:
			id = e.a.mergeMaps(id, pid)
		}
	}
	return lookup, id, ""
}

// unionOfMaps returns the sorted ids of the maps x and y stand for (each
// itself, or the set parts records for it) and a key naming the set.
func unionOfMaps(parts map[int32][]int32, x, y int32) ([]int32, string) {
	set := map[int32]bool{}
	for _, id := range []int32{x, y} {
		if p, ok := parts[id]; ok {
			for _, q := range p {
				set[q] = true
			}
		} else {
			set[id] = true
		}
	}
	ids := make([]int32, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, fmt.Sprint(ids)
}

// innerID returns the id of the maps an inner map template stands for: an
// id of its own, never a program map's, even where the template is one of
// Options.Maps (Inner: &maps[i]). Values of a program map with one element
// are one object (sameObject: their difference is their offsets'), and a
// frozen one's bytes are known (Constant); the values of the maps a
// map-in-map holds are many objects, of unknown bytes.
func (a *analyzer) innerID(m *MapInfo) int32 {
	if id, ok := a.innerIndex[m]; ok {
		return id
	}
	c := *m
	c.Constant = nil
	id := a.addMap(&c)
	if a.innerIndex == nil {
		a.innerIndex = map[*MapInfo]int32{}
	}
	a.innerIndex[m] = id
	return id
}
