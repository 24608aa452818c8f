package oracle

import (
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost/vm"
)

func TestElement(t *testing.T) {
	m := &Memory{Maps: [][]Element{{{Start: 0x1000, Size: 16}, {Start: 0x2000, Size: 16}}}}
	m.AddRecord(0x50000, 8)
	m.AddRecord(0x40000, 8)
	for _, c := range []struct {
		idx   int
		addr  uint64
		start uint64
		ok    bool
	}{
		{0, 0x1000, 0x1000, true},
		{0, 0x100f, 0x1000, true},
		{0, 0x1010, 0x1000, true}, // just past the end: the nearest below
		{0, 0x2008, 0x2000, true},
		{0, 0xfff, 0x1000, true},  // just below every element: the nearest above
		{0, 0x1fff, 0x1000, true}, // past one element, below another: the one below
		{1, 0x1000, 0, false},     // no such map
		{-1, 0x40004, 0x40000, true},
		{-1, 0x50000, 0x50000, true},
		{-1, 0x3fff0, 0x40000, true},
		{-1, 0x3000, 0, false}, // far below every record
	} {
		start, ok := m.Element(c.idx, c.addr)
		if start != c.start || ok != c.ok {
			t.Errorf("Element(%d, %#x) = %#x, %v; want %#x, %v", c.idx, c.addr, start, ok, c.start, c.ok)
		}
	}
}

// TestElements: the elements near an address, on either side, for a
// pointer Element attributes to the wrong one (one past the end of a value
// is the next value's start).
func TestElements(t *testing.T) {
	m := &Memory{Maps: [][]Element{{{Start: 0x10000, Size: 16}, {Start: 0x10010, Size: 16}, {Start: 0x40000, Size: 16}}}}
	if got := m.Elements(0, 0x10010); !slices.Equal(got, []uint64{0x10000, 0x10010}) {
		t.Errorf("Elements(0, 0x10010) = %#x, want both values next to it", got)
	}
	if got := m.Elements(0, 0x38000); !slices.Equal(got, []uint64{0x40000}) {
		t.Errorf("Elements(0, 0x38000) = %#x, want the one above", got)
	}
	if got := m.Elements(1, 0x10000); got != nil {
		t.Errorf("Elements of a map that does not exist = %#x", got)
	}
}

func TestLoad(t *testing.T) {
	rc := &vm.RunContext{}
	m := &Memory{RC: rc}
	fp := m.FramePointer(1)
	b := rc.Stack().Bytes()
	base := rc.Stack().Top() - uint64(len(b))
	copy(b[fp-8-base:], []byte{1, 2, 3, 4, 5, 6, 7, 8})
	if got := m.Load(fp-8, 8); got != 0x0807060504030201 {
		t.Errorf("Load 8 bytes = %#x", got)
	}
	if got := m.Load(fp-8, 2); got != 0x0201 {
		t.Errorf("Load 2 bytes = %#x", got)
	}
	if got := m.Load(rc.Stack().Top(), 1); got != 0 {
		t.Errorf("Load past the stack = %#x, want 0", got)
	}
}
