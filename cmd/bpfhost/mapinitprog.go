package main

import (
	"encoding/binary"
	"fmt"

	"github.com/bpfhost/bpfhost"
)

// entryProgram puts the ID of the program a --map-init entry names
// ("program") into the entry's value v: the bpf_prog field of struct
// bpf_devmap_val (devmap, devmap_hash) or struct bpf_cpumap_val (cpumap),
// bytes 4 to 8, where Linux takes a program file descriptor and bpfhost a
// program ID (see bpfhost.XDPEntryProgram). The program must be in the same
// object and be a SEC("xdp/devmap") or SEC("xdp/cpumap") program as the map
// needs. A value given as its first 4 bytes alone is widened to the map's
// value size. Without "program", v is returned as it is.
func entryProgram(coll *bpfhost.Collection, m *bpfhost.Map, e mapEntry, v []byte) ([]byte, error) {
	if e.Program == "" {
		return v, nil
	}
	var devmap bool
	switch m.Type() {
	case bpfhost.MapDevMap, bpfhost.MapDevMapHash:
		devmap = true
	case bpfhost.MapCPUMap:
	default:
		return nil, fmt.Errorf(`"program" is for devmap, devmap_hash and cpumap entries, not %s`, m.Type())
	}
	if m.ValueSize() < 8 {
		return nil, fmt.Errorf(`"program": the map's values are %d bytes, no room for a program (want 8: struct bpf_%s_val)`, m.ValueSize(), valStruct(devmap))
	}
	p, ok := coll.Programs[e.Program]
	if !ok {
		return nil, fmt.Errorf(`"program": no program %q loaded (attach xdp loads every program of the object, run only the one it runs and what its program arrays reach)`, e.Program)
	}
	if _, err := bpfhost.XDPEntryProgram(p.ID(), devmap); err != nil {
		return nil, fmt.Errorf(`"program": %w`, err)
	}
	switch {
	case len(v) == 4:
		v = append(v, make([]byte, int(m.ValueSize())-4)...)
	case len(v) != int(m.ValueSize()):
		return nil, fmt.Errorf("value of %d bytes, want 4 (with \"program\") or %d", len(v), m.ValueSize())
	case binary.NativeEndian.Uint32(v[4:8]) != 0:
		return nil, fmt.Errorf(`value names program ID %d and "program" names %q: give one of them`, binary.NativeEndian.Uint32(v[4:8]), e.Program)
	}
	binary.NativeEndian.PutUint32(v[4:8], p.ID())
	return v, nil
}

func valStruct(devmap bool) string {
	if devmap {
		return "devmap"
	}
	return "cpumap"
}
