package bpfhost

import "fmt"

// NewMap creates a map of its own, as cilium/ebpf's NewMap does: not
// declared by an object, for user space to fill and hand to collections
// (CollectionOptions.MapReplacements, or a map of maps' Update). The
// caller closes it; it has DefaultSlots() execution slots, as a collection
// made without CollectionOptions.Slots. Global data and pinning in
// ms are not used.
func NewMap(ms *MapSpec) (*Map, error) {
	if ms == nil {
		return nil, fmt.Errorf("%w: nil MapSpec", ErrInvalid)
	}
	cp := ms.Copy()
	cp.Pinning, cp.Contents = PinNone, nil
	c, err := NewCollection(&CollectionSpec{Maps: []*MapSpec{cp}}, nil)
	if err != nil {
		return nil, err
	}
	m := c.Maps[cp.Name]
	pinNS.mu.Lock()
	h := m.handleLocked()
	pinNS.mu.Unlock()
	h.user = true
	// The collection lives until the handle's Close (assign.go), so that
	// maps that cannot outlive their collection (program arrays) work too.
	a := &assignment{coll: c}
	a.open.Store(1)
	assignedTo.Store(h, a)
	return h, nil
}
