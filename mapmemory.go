package bpfhost

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bpfhost/bpfhost/maps"
)

// newMapMemory creates the map of spec, in a map memory file under memDir
// when memDir is set and the map can live in one (arrays, hash maps and LPM
// tries, on Linux: maps.InFile). reused says the file existed and its
// contents are the map's.
func newMapMemory(spec maps.Spec, slots int, memDir string) (m maps.Map, file string, reused bool, err error) {
	if memDir == "" || !maps.FileMemory || !maps.InFile(spec) {
		m, err = maps.New(spec, slots)
		return m, "", false, err
	}
	if !memoryFileName(spec.Name) {
		return nil, "", false, fmt.Errorf("map %q: the name cannot name a map memory file: %w", spec.Name, ErrInvalid)
	}
	if err := os.MkdirAll(memDir, 0o700); err != nil {
		return nil, "", false, fmt.Errorf("map memory directory: %w", err)
	}
	file = filepath.Join(memDir, spec.Name)
	m, reused, err = maps.NewInFile(spec, slots, file)
	if err != nil {
		return nil, "", false, err
	}
	return m, file, reused, nil
}

// memoryFileName reports whether a map name is usable as a file name as it
// is: not empty, no separator, not "." or "..".
func memoryFileName(name string) bool {
	if name == "" || name == "." || name == ".." {
		return false
	}
	for _, c := range name {
		if c == '/' || c == '\\' || c == 0 {
			return false
		}
	}
	return true
}

// SyncMemory writes the values of a map kept in a memory file to storage
// and waits for it (msync), for durability past the process: a machine
// crash. Stores are in the file without it; maps without a file do nothing.
func (m *Map) SyncMemory() error {
	if s, ok := m.m.(interface{ SyncMemory() error }); ok && m.memFile != "" {
		return s.SyncMemory()
	}
	return nil
}

// MemoryFile returns the path of the map memory file that holds the map's
// values (CollectionOptions.MapMemoryDir), or "" if its values are in
// process memory only. Another process may map the file read-only
// (maps.OpenMemory) to read the values as programs store them, as
// cilium/ebpf's Map.Memory maps a BPF_F_MMAPABLE array.
func (m *Map) MemoryFile() string { return m.memFile }
