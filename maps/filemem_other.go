//go:build !linux

package maps

import (
	"errors"
	"fmt"
)

// FileMemory reports whether NewInFile and OpenMemory are supported: on
// Linux. Elsewhere maps keep their values in anonymous memory only.
const FileMemory = false

// NewInFile places a map's values in a memory file on Linux; here it is an
// ErrNotSupported error.
func NewInFile(spec Spec, slots int, path string) (m Map, reused bool, err error) {
	return nil, false, opError(spec.Name, "", EOPNOTSUPP, "map memory files need Linux")
}

// SyncMemory does nothing here: maps have no memory files.
func (b *base) SyncMemory() error { return nil }

// MappedMemory is a read-only mapping of a map memory file (Linux only).
type MappedMemory struct{ layout MemoryLayout }

// OpenMemory maps a map memory file on Linux; here it is an error.
func OpenMemory(path string) (*MappedMemory, error) {
	return nil, fmt.Errorf("%s: %w", path, errors.ErrUnsupported)
}

// Layout describes the values.
func (m *MappedMemory) Layout() MemoryLayout { return m.layout }

// Bytes returns the values; nil here.
func (m *MappedMemory) Bytes() []byte { return nil }

// Value returns an error here.
func (m *MappedMemory) Value(index, c uint32) ([]byte, error) { return nil, errors.ErrUnsupported }

// Entry returns an error here.
func (m *MappedMemory) Entry(index uint32) ([]byte, bool, error) {
	return nil, false, errors.ErrUnsupported
}

// Close does nothing here.
func (m *MappedMemory) Close() error { return nil }
