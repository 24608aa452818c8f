package verifier

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"
)

// The stack domain: one frame of 512 bytes per active function. Each byte
// is initialised or not, and may hold part of a spilled pointer. A store of
// a register keeps the register's whole abstract value as a spill at its
// offset and width (8-byte spills of pointers included, with their
// location in the zone); narrower or partial stores make bytes plain
// initialised data.

const frameSize = 512

type bitset [frameSize / 64]uint64

func (b *bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b *bitset) clear(i int)    { b[i/64] &^= 1 << (i % 64) }
func (b *bitset) get(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

// setRange sets bytes [lo, hi).
func (b *bitset) setRange(lo, hi int, on bool) {
	for i := lo; i < hi; i++ {
		if on {
			b.set(i)
		} else {
			b.clear(i)
		}
	}
}

// all reports whether every byte in [lo, hi) is set.
func (b *bitset) all(lo, hi int) bool {
	for i := lo; i < hi; i++ {
		if !b.get(i) {
			return false
		}
	}
	return true
}

// any reports whether some byte in [lo, hi) is set.
func (b *bitset) any(lo, hi int) bool {
	for i := lo; i < hi; i++ {
		if b.get(i) {
			return true
		}
	}
	return false
}

func (b bitset) and(o bitset) bitset {
	for i := range b {
		b[i] &= o[i]
	}
	return b
}

func (b bitset) or(o bitset) bitset {
	for i := range b {
		b[i] |= o[i]
	}
	return b
}

func (b *bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// spill is a register value stored whole at a stack offset.
type spill struct {
	off  int16 // from r10, negative
	size uint8
	v    value
}

// frame is one function's stack.
type frame struct {
	init  bitset  // byte i (offset i-512) is initialised
	ptr   bitset  // byte i holds part of a pointer
	spill []spill // sorted by off, non-overlapping
	// saved are the caller's r6..r9 while this frame's function runs a
	// call (index r-6); their numbers are at locSaved.
	saved [4]value
	// fn is the start of the function that owns the frame.
	fn int
	// used is the lowest offset this frame has accessed (0 if none).
	used int
}

func (f *frame) clone() *frame {
	c := *f
	c.spill = append([]spill(nil), f.spill...)
	return &c
}

func (f *frame) find(off int) int {
	i := sort.Search(len(f.spill), func(i int) bool { return int(f.spill[i].off) >= off })
	if i < len(f.spill) && int(f.spill[i].off) == off {
		return i
	}
	return -1
}

// overlapping returns the indices of spills that overlap [off, off+n).
func (f *frame) overlapping(off, n int) []int {
	var out []int
	for i, s := range f.spill {
		if int(s.off) < off+n && off < int(s.off)+int(s.size) {
			out = append(out, i)
		}
	}
	return out
}

func (f *frame) remove(idx []int) {
	if len(idx) == 0 {
		return
	}
	keep := f.spill[:0]
	j := 0
	for i, s := range f.spill {
		if j < len(idx) && idx[j] == i {
			j++
			continue
		}
		keep = append(keep, s)
	}
	f.spill = keep
}

func (f *frame) insert(s spill) {
	i := sort.Search(len(f.spill), func(i int) bool { return f.spill[i].off >= s.off })
	f.spill = append(f.spill, spill{})
	copy(f.spill[i+1:], f.spill[i:])
	f.spill[i] = s
}

func (f *frame) touch(off int) {
	if off < f.used {
		f.used = off
	}
}

func (f *frame) equal(o *frame) bool {
	if f == o {
		return true
	}
	if f.init != o.init || f.ptr != o.ptr || len(f.spill) != len(o.spill) || f.saved != o.saved || f.fn != o.fn || f.used != o.used {
		return false
	}
	for i := range f.spill {
		if f.spill[i] != o.spill[i] {
			return false
		}
	}
	return true
}

func (f *frame) String() string {
	var b strings.Builder
	// Initialised ranges.
	start := -1
	for i := 0; i <= frameSize; i++ {
		on := i < frameSize && f.init.get(i)
		if on && start < 0 {
			start = i
		}
		if !on && start >= 0 {
			fmt.Fprintf(&b, " init[%d..%d)", start-frameSize, i-frameSize)
			start = -1
		}
	}
	for _, s := range f.spill {
		fmt.Fprintf(&b, " [r10%+d/%d]=%s", s.off, s.size, s.v)
	}
	return strings.TrimSpace(b.String())
}
