package bpfhost

import (
	"math"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/verifier"
)

// The object's map spec (MapSpec) is the one description of a map: its
// type, flags and what its BTF says (the places of a struct bpf_spin_lock
// and a struct bpf_timer). These two functions are the only places it is
// translated, for the maps package (which creates the map; the JIT reads
// the created map's spec) and for the verifier.

// toMapsSpec is ms for package maps.
func toMapsSpec(ms *MapSpec) maps.Spec {
	s := maps.Spec{
		Name: ms.Name, Type: maps.Type(ms.Type), KeySize: ms.KeySize, ValueSize: ms.ValueSize,
		MaxEntries: ms.MaxEntries, Flags: ms.Flags, MapExtra: ms.MapExtra,
		HasSpinLock: ms.HasSpinLock, SpinLockOffset: ms.SpinLockOffset,
		HasTimer: ms.HasTimer, TimerOffset: ms.TimerOffset,
	}
	if ms.InnerMap != nil {
		in := toMapsSpec(ms.InnerMap)
		s.InnerMap = &in
	}
	return s
}

// mapInfo is ms for the verifier.
func mapInfo(ms *MapSpec) verifier.MapInfo {
	mi := verifier.MapInfo{
		Name: ms.Name, Type: platform.MapType(ms.Type), KeySize: ms.KeySize, ValueSize: ms.ValueSize,
		MaxEntries: ms.MaxEntries, ReadOnlyProg: ms.Flags&maps.FlagRdOnlyProg != 0,
		WriteOnlyProg: ms.Flags&maps.FlagWrOnlyProg != 0,
		HasSpinLock:   ms.HasSpinLock, SpinLockOffset: ms.SpinLockOffset,
		HasTimer: ms.HasTimer, TimerOffset: ms.TimerOffset,
	}
	if isFrozenData(ms) && len(ms.Data) == int(ms.ValueSize) {
		mi.Constant = ms.Data
	}
	if ms.InnerMap != nil {
		in := mapInfo(ms.InnerMap)
		// The maps found at run time are any maps like the template,
		// none frozen with its bytes: its Data say nothing of them.
		in.Constant = nil
		mi.Inner = &in
	}
	return mi
}

// MapMemory is how many bytes a map made from ms preallocates with slots
// execution slots (keys, values, bookkeeping): what CollectionOptions.
// MemoryLimit charges for it. An estimate too large for an int64 is
// math.MaxInt64, never negative: no caller can take it as a credit.
func MapMemory(ms *MapSpec, slots int) int64 {
	m := maps.Memory(toMapsSpec(ms), slots)
	if m > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(m)
}
