// Package oracle holds what the soundness oracles share: the description of
// a run's memory by region kind that the containment check reads
// (verifier.Concrete), the Tracker that follows a traced run's stack writes
// and held resources for it, and the runner that spreads generated
// programs over shards.
//
// The containment check relates concrete pointers to the verifier's
// abstract offsets, which count from a region's base: the context, a stack
// frame, the packet data, the map value or ring buffer record a pointer
// points into. The interpreter knows only addresses; Memory knows which
// region of which kind each address range is, because the harness that
// built the run says so.
package oracle

import (
	"encoding/binary"
	"sort"

	"github.com/bpfhost/bpfhost/vm"
)

// Element is one map value or ring buffer record of a run.
type Element struct {
	Start uint64
	Size  uint64
}

// Memory is a run's memory by region kind.
type Memory struct {
	// RC is the run's context: its stack gives the frame pointers.
	RC *vm.RunContext
	// Context is the context's address (0: none).
	Context uint64
	// Packet says whether Meta, Data and End are set.
	Packet          bool
	Meta, Data, End uint64
	// Maps are the values of each map, by the verifier's map index, and
	// Handles the values its lddw loads at run time (0: unknown).
	Maps    [][]Element
	Handles []uint64
	// Records are the ring buffer records handed out so far.
	Records []Element
	// LeakCheck asks the containment check to report a number (a
	// verifier scalar) that is an address of the run's memory (Owns):
	// a pointer the program turned into a number. Harnesses whose
	// programs may legitimately load such numbers (BTF pointer arguments
	// into the run's own memory) leave it off.
	LeakCheck bool
}

// Owns reports whether addr lies in the run's memory: its stack, the
// packet, the map values and records known, and the run's regions (the
// context, map memory, ring buffer data).
func (m *Memory) Owns(addr uint64) bool {
	in := func(start, size uint64) bool { return addr >= start && addr-start < size }
	if m.RC != nil {
		st := m.RC.Stack()
		if b := st.Bytes(); in(st.Top()-uint64(len(b)), uint64(len(b))+1) { // r10 of the top frame too
			return true
		}
		for _, r := range m.RC.Regions {
			if in(uint64(r.Start), uint64(r.Size)) {
				return true
			}
		}
	}
	if m.Packet && addr >= m.Meta && addr <= m.End {
		return true
	}
	if m.Context != 0 && in(m.Context, 256) {
		return true
	}
	for _, els := range append(m.Maps, m.Records) {
		for _, e := range els {
			if in(e.Start, e.Size) {
				return true
			}
		}
	}
	return false
}

// FramePointer returns r10 of the frame at a call depth.
func (m *Memory) FramePointer(depth int) uint64 { return m.RC.Stack().FramePointer(depth) }

// Load reads size bytes little-endian at addr, which must be live stack.
func (m *Memory) Load(addr uint64, size int) uint64 {
	stack := m.RC.Stack().Bytes()
	base := m.RC.Stack().Top() - uint64(len(stack))
	if addr < base || addr-base > uint64(len(stack)-size) {
		return 0
	}
	b := stack[addr-base : addr-base+uint64(size)]
	var w [8]byte
	copy(w[:], b)
	return binary.LittleEndian.Uint64(w[:])
}

// Element returns the start of the element of map idx (idx < 0: the ring
// buffer records) that addr points into, or else the nearest one below
// addr within 64 KiB: an offset past the end is the verifier's to bound.
// Below every element, it is the nearest one above addr within 64 KiB: a
// pointer the program moved before the element's start (the verifier
// allows negative offsets that a later addition brings back).
func (m *Memory) Element(idx int, addr uint64) (uint64, bool) {
	var els []Element
	switch {
	case idx < 0:
		els = m.Records
	case idx < len(m.Maps):
		els = m.Maps[idx]
	}
	best, found := uint64(0), false
	above, foundAbove := uint64(0), false
	for _, e := range els {
		if addr >= e.Start && addr-e.Start < e.Size {
			return e.Start, true
		}
		if addr >= e.Start && addr-e.Start < 1<<16 && (!found || e.Start > best) {
			best, found = e.Start, true
		}
		if addr < e.Start && e.Start-addr <= 1<<16 && (!foundAbove || e.Start < above) {
			above, foundAbove = e.Start, true
		}
	}
	if !found && foundAbove {
		return above, true
	}
	return best, found
}

// Elements returns the starts of the elements of map idx (idx < 0: the
// ring buffer records) within 64 KiB of addr on either side: the elements
// a pointer at addr may have come from, where the elements of a map lie
// next to each other (one element's end is the next one's start).
func (m *Memory) Elements(idx int, addr uint64) []uint64 {
	var els []Element
	switch {
	case idx < 0:
		els = m.Records
	case idx < len(m.Maps):
		els = m.Maps[idx]
	}
	var out []uint64
	for _, e := range els {
		if addr >= e.Start && addr-e.Start <= 1<<16 || addr < e.Start && e.Start-addr <= 1<<16 {
			out = append(out, e.Start)
		}
	}
	return out
}

// MapHandle returns what an lddw of map idx loads, if known.
func (m *Memory) MapHandle(idx int) (uint64, bool) {
	if idx < len(m.Handles) && m.Handles[idx] != 0 {
		return m.Handles[idx], true
	}
	return 0, false
}

// AddRecord notes a ring buffer record handed out by a helper.
func (m *Memory) AddRecord(start, size uint64) {
	m.Records = append(m.Records, Element{start, size})
	sort.Slice(m.Records, func(i, j int) bool { return m.Records[i].Start < m.Records[j].Start })
}
