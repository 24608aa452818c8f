package object

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
)

// windowsTag marks cilium/ebpf's eBPF-for-Windows map and program types;
// Linux numbers are below it.
const windowsTag = 1 << 28

// isDataSection reports whether a map named after an ELF section holds
// global data, as libbpf names those sections. .kconfig is the virtual
// section of extern __kconfig variables.
func isDataSection(name string) bool {
	return name == ".bss" || name == ".kconfig" ||
		strings.HasPrefix(name, ".data") || strings.HasPrefix(name, ".rodata")
}

// convertMaps converts cilium/ebpf's map specs, sorted by name so that map
// indices do not depend on map iteration order.
func convertMaps(in map[string]*ebpf.MapSpec, legacy *legacyInfo) ([]*MapSpec, error) {
	names := make([]string, 0, len(in))
	for name := range in {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]*MapSpec, 0, len(names))
	for _, name := range names {
		m, err := convertMap(name, in[name], 0)
		if err != nil {
			return nil, fmt.Errorf("map %q: %w", name, err)
		}
		out = append(out, m)
	}
	if err := applyLegacyMaps(out, in, legacy); err != nil {
		return nil, err
	}
	if legacy != nil {
		applyBTFNumaNodes(out, legacy.btfNumaNodes)
	}
	return out, nil
}

func convertMap(name string, ms *ebpf.MapSpec, depth int) (*MapSpec, error) {
	if ms == nil {
		return nil, fmt.Errorf("%w: nil MapSpec", ErrInvalidObject)
	}
	if depth > 1 {
		return nil, fmt.Errorf("inner maps nested more than one level: %w", ErrNotSupported)
	}
	if uint32(ms.Type) >= windowsTag {
		return nil, fmt.Errorf("map type %v is not a Linux map type: %w", ms.Type, ErrNotSupported)
	}
	m := &MapSpec{
		Name:       name,
		Type:       uint32(ms.Type),
		KeySize:    ms.KeySize,
		ValueSize:  ms.ValueSize,
		MaxEntries: ms.MaxEntries,
		Flags:      ms.Flags,
		MapExtra:   ms.MapExtra,
		NumaNode:   ms.NumaNode,
		Pinning:    Pinning(ms.Pinning),
	}
	lockOff, hasLock, err := spinLockOffset(ms.Value)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", name, err)
	}
	m.HasSpinLock, m.SpinLockOffset = hasLock, lockOff
	timerOff, hasTimer, err := timerOffset(ms.Value)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", name, err)
	}
	m.HasTimer, m.TimerOffset = hasTimer, timerOff
	if ms.InnerMap != nil {
		inner, err := convertMap(ms.InnerMap.Name, ms.InnerMap, depth+1)
		if err != nil {
			return nil, fmt.Errorf("inner map: %w", err)
		}
		m.InnerMap = inner
	}

	if depth == 0 && isDataSection(name) {
		data, err := sectionData(ms)
		if err != nil {
			return nil, err
		}
		m.Data = data
		return m, nil
	}

	for i, kv := range ms.Contents {
		key, ok := kv.Key.(uint32)
		if !ok {
			return nil, fmt.Errorf("contents entry %d: key of type %T: %w (only uint32 indices)", i, kv.Key, ErrNotSupported)
		}
		value, ok := kv.Value.(string)
		if !ok {
			return nil, fmt.Errorf("contents entry %d: value of type %T: %w (only program and map names)", i, kv.Value, ErrNotSupported)
		}
		if key >= m.MaxEntries {
			return nil, fmt.Errorf("%w: contents entry %d: index %d, map has %d entries", ErrInvalidObject, i, key, m.MaxEntries)
		}
		m.Contents = append(m.Contents, MapKV{Key: key, Value: value})
	}
	slices.SortFunc(m.Contents, func(a, b MapKV) int { return cmp.Compare(a.Key, b.Key) })
	return m, nil
}

// sectionData returns the initial bytes of a data section map: its single
// entry if it has one, zeroes otherwise (.bss, .kconfig).
func sectionData(ms *ebpf.MapSpec) ([]byte, error) {
	if ms.MaxEntries != 1 || ms.KeySize != 4 {
		return nil, fmt.Errorf("%w: data section map with %d entries and %d-byte keys, want 1 and 4", ErrInvalidObject, ms.MaxEntries, ms.KeySize)
	}
	if ms.ValueSize > maxDataSize {
		return nil, fmt.Errorf("%w: data section of %d bytes, limit %d", ErrInvalidObject, ms.ValueSize, maxDataSize)
	}
	data := make([]byte, ms.ValueSize)
	switch len(ms.Contents) {
	case 0:
		return data, nil
	case 1:
	default:
		return nil, fmt.Errorf("%w: data section map with %d contents entries, want 1", ErrInvalidObject, len(ms.Contents))
	}
	kv := ms.Contents[0]
	if key, ok := kv.Key.(uint32); !ok || key != 0 {
		return nil, fmt.Errorf("%w: data section contents key %v, want uint32(0)", ErrInvalidObject, kv.Key)
	}
	b, ok := kv.Value.([]byte)
	if !ok {
		return nil, fmt.Errorf("data section contents of type %T: %w (want []byte)", kv.Value, ErrNotSupported)
	}
	if len(b) != len(data) {
		return nil, fmt.Errorf("%w: data section contents are %d bytes, value size is %d", ErrInvalidObject, len(b), len(data))
	}
	copy(data, b)
	return data, nil
}
