package bpfhost

import (
	"fmt"

	"github.com/bpfhost/bpfhost/maps"
)

// QueueValues returns copies of the values a queue or stack holds, oldest
// first: pushing them again in this order recreates the map (snapshots).
// Nothing is removed. Use Lookup, Update and LookupAndDelete with a nil key
// to peek, push and pop, as with cilium/ebpf.
func (m *Map) QueueValues() ([][]byte, error) {
	q, ok := m.m.(*maps.QueueStackMap)
	if !ok {
		return nil, fmt.Errorf("map %q is a %s: %w: want a queue or stack", m.name, m.Type(), ErrNotSupported)
	}
	return q.Values(), nil
}
