package bpfhost

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
)

// Frozen data sections (docs/decisions/0028-kconfig.md): libbpf and
// cilium/ebpf write the initial bytes of the .rodata* sections (const
// volatile globals, after the caller set them) and of .kconfig, then freeze
// the maps (BPF_MAP_FREEZE); Linux's verifier reads a frozen read-only map's
// bytes as constants. NewCollection does the same: it freezes these maps
// before any program is verified against them, and mapInfo hands their bytes
// to the verifier as MapInfo.Constant.

// isFrozenData says the map is a read-only data section whose one value
// NewCollection writes and then freezes, so that the verifier may read its
// bytes as constants: .kconfig (isKconfig) or a .rodata* section with its
// initial bytes.
func isFrozenData(ms *MapSpec) bool {
	if isKconfig(ms) {
		return true
	}
	return strings.HasPrefix(ms.Name, ".rodata") && ms.Flags&maps.FlagRdOnlyProg != 0 &&
		ms.Type == object.MapTypeArray && ms.MaxEntries == 1 && ms.Data != nil
}

// freezeData freezes m, the map made for the frozen data section ms
// (isFrozenData), and checks that it holds ms's bytes: a pinned map or a
// reused map memory file might hold others, and the verifier reads ms's.
// It freezes first, so that no update can come between the check and the
// freeze.
func freezeData(m *Map, ms *MapSpec) error {
	if !m.Frozen() {
		if err := m.Freeze(); err != nil {
			return fmt.Errorf("map %q: %w", ms.Name, err)
		}
	}
	got, err := m.LookupBytes(uint32(0))
	if err != nil {
		return fmt.Errorf("map %q: %w", ms.Name, err)
	}
	if !bytes.Equal(got, ms.Data) {
		if isKconfig(ms) {
			return fmt.Errorf("map %q: %w: it holds other values than the kernel configuration's", ms.Name, ErrKernelConfig)
		}
		return fmt.Errorf("map %q: %w: its frozen value (a pinned map or a reused memory file) holds other constants than the spec's",
			ms.Name, ErrMapIncompatible)
	}
	return nil
}
