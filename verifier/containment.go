package verifier

import (
	"fmt"
	"math"
	"strings"
)

// Containment is an oracle for the verifier's soundness: every concrete
// state a run of an accepted program reaches must lie inside the abstract
// state the verifier computed for that instruction, and no branch the
// verifier judged impossible may be taken. Set Options.Containment to a new
// Containment to make Verify keep the states of its final pass (the state
// before every instruction, in every context the instruction was analysed
// in, and the states a conditional jump leaves on each edge); then check
// each step of a traced run (vm.RunContext.Trace) with a Walk.
//
// What is checked: each register's and stack spill's kind (number or which
// kind of pointer), a number's signed and unsigned bounds and known low
// bits, a pointer's offset from its region's base (the context, its stack
// frame, the packet data, the map value or ring buffer record it points
// into; for a record, the very record its reserve call handed out), the
// packet and meta sizes, the trip counts of the loops around the
// instruction, and every relation of the zone between those; the ring
// buffer records, sockets and the spin lock the run holds (Concrete.Held),
// a socket pointer being the very socket its lookup returned, the
// stack bytes it has written (Concrete.Written), and that the instruction
// reads no register the state believes uninitialised (containment_more.go).
// Not checked: the caller's registers a call saved (they are restored
// values, checked as registers once the call returns).
type Containment struct {
	a     *analyzer
	at    map[int][]*kept
	users int // len(Options.Maps): map ids below are the caller's
	// States is how many abstract states are kept.
	States int
	// MaxBytes bounds the memory of the kept states (estimated as
	// Limits.MaxStateBytes estimates states); 0 means
	// DefaultContainmentBytes. Kept states live until the Containment
	// does, on top of what the analysis itself keeps: a verification
	// that would exceed it fails with a *LimitError ("containment state
	// memory"), as no partial containment is checked.
	MaxBytes int64
	// Bytes is the memory of the kept states so far.
	Bytes int64

	over    bool        // Bytes passed MaxBytes
	fnAt    []*function // by pc, built by locate
	blockAt []int32
}

// kept is one abstract state before an instruction, and for a conditional
// jump the states on its edges (nil: judged impossible).
type kept struct {
	s           *state
	cond        bool
	fall, taken *state
	c           *Containment
}

// keep retains s as a state before pc, if the analysis keeps states (the
// final pass with Options.Containment set); it returns nil otherwise.
func (a *analyzer) keep(r *run, pc int, s *state) *kept {
	c := a.opts.Containment
	if c == nil || !r.check || s == nil {
		return nil
	}
	if c.a != a {
		*c = Containment{a: a, at: map[int][]*kept{}, users: len(a.opts.Maps), MaxBytes: c.MaxBytes}
	}
	if c.over {
		return nil // the analysis stops at the end of the block (checkKept)
	}
	k := &kept{s: s.clone(), c: c}
	c.at[pc] = append(c.at[pc], k)
	c.States++
	c.charge(k.s)
	return k
}

// edges records the states a conditional jump leaves on its two edges.
func (k *kept) edges(fall, taken *state) {
	if k == nil {
		return
	}
	k.cond = true
	if fall != nil {
		k.fall = fall.clone()
		k.c.charge(k.fall)
	}
	if taken != nil {
		k.taken = taken.clone()
		k.c.charge(k.taken)
	}
}

// Concrete is one state of a run at an instruction, with what is needed to
// read the run's memory the way the verifier sees it. Fields left unset
// (nil functions, no packet) leave what depends on them unchecked.
type Concrete struct {
	// Regs are r0 to r10.
	Regs [11]uint64
	// Depth is the call depth (0 in the entry function): the stack frame
	// r10 points to, and the verifier's frame index.
	Depth int
	// FramePointer returns r10 of the frame at a call depth.
	FramePointer func(depth int) uint64
	// Load reads size (1, 2, 4 or 8) bytes little-endian at a stack
	// address of a live frame.
	Load func(addr uint64, size int) uint64
	// Context is the context's address; 0 if the program type has none.
	Context uint64
	// Packet says whether the run has packet data; Meta, Data and End are
	// the data_meta, data and data_end pointers.
	Packet          bool
	Meta, Data, End uint64
	// Element returns the start of the map value of map m (an index in
	// Options.Maps) that addr points into, or, for m < 0, of the ring
	// buffer record; ok is false if addr points into none. Addresses
	// past an element's end are the caller's to attribute (the nearest
	// element below is a good choice).
	Element func(m int, addr uint64) (start uint64, ok bool)
	// Elements, if set, returns the starts of the map values of map m near
	// addr (within 64 KiB): a pointer that Element attributes to an
	// element at an offset outside the verifier's bounds is checked
	// against the other elements it may have come from (one past the end
	// of a value is the start of the next one).
	Elements func(m int, addr uint64) []uint64
	// Owned, if set, reports whether an address lies in the run's memory:
	// a number the verifier has (a scalar) that is such an address is a
	// pointer leaked as a number, and a violation.
	Owned func(addr uint64) bool
	// MapHandle returns the value an lddw of map m (an index in
	// Options.Maps) loads at run time; ok is false if unknown.
	MapHandle func(m int) (handle uint64, ok bool)
	// Held, if not nil, is what the run holds before the instruction.
	Held *Held
	// Written, if set, returns the bytes of the stack frame at a call
	// depth that the run has written since the frame was entered: bit
	// i%64 of word i/64 for the byte at r10-512+i (nil: unknown).
	Written func(depth int) *[8]uint64
}

// Violation is a concrete state outside the verifier's abstract states.
type Violation struct {
	// PC is the instruction the state was reached at.
	PC int
	// Message says what lies outside: the instruction reached that the
	// verifier judged unreachable, the branch judged impossible, or for
	// each abstract state at PC the first value or relation that does not
	// hold.
	Message string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("containment violated at insn %d: %s", v.PC, v.Message)
}

// Walk follows one run (one program; a tail call starts another walk)
// step by step.
type Walk struct {
	c     *Containment
	prev  int // the previous instruction, -1 at the start
	loops loops
	nums  []known // the loop counters' numbers, reused
}

// Walk returns a checker for one run from the program's first instruction
// (or a callback's: a walk only relates consecutive steps that a branch
// connects).
func (c *Containment) Walk() *Walk { return &Walk{c: c, prev: -1} }

// Step checks the state before instruction pc, which the run reached right
// after the previous step's instruction. It returns a *Violation, or nil.
func (w *Walk) Step(pc int, cs *Concrete) error {
	prev := w.prev
	w.prev = pc
	c := w.c
	if c == nil || c.a == nil {
		return &Violation{PC: pc, Message: "no states kept: the program was not verified with Options.Containment"}
	}
	if pc < 0 || pc >= len(c.a.prog) {
		return &Violation{PC: pc, Message: "the run is at an instruction outside the program"}
	}
	if prev >= 0 && prev < len(c.a.prog) && c.a.prog[prev].IsConditionalJump() {
		// The edge's states are before the loop counters count it.
		w.nums = w.loops.counters(c, prev, cs.Depth, w.nums[:0])
		if err := c.edge(prev, pc, cs, w.nums); err != nil {
			return err
		}
	}
	w.loops.step(c, pc, cs.Depth)
	ks := c.at[pc]
	if len(ks) == 0 {
		return &Violation{PC: pc, Message: "the run reached an instruction the verifier judged unreachable"}
	}
	w.nums = w.loops.counters(c, pc, cs.Depth, w.nums[:0])
	counters := w.nums
	var why []string
	for _, k := range ks {
		msg := c.contains(k.s, cs, counters)
		if msg == "" {
			if msg = c.uninitRead(k.s, pc); msg != "" {
				return &Violation{PC: pc, Message: msg}
			}
			return nil
		}
		why = append(why, msg)
	}
	return &Violation{PC: pc, Message: summarize(why)}
}

// edge checks the branch from the conditional jump at prev to pc.
func (c *Containment) edge(prev, pc int, cs *Concrete, counters []known) error {
	ins := c.a.prog[prev]
	target, _ := ins.BranchTarget(prev)
	taken := pc == target
	fall := pc == prev+1
	if !taken && !fall {
		return nil // not a successor: the walk skipped steps (a callback)
	}
	var why []string
	impossible := false
	for _, k := range c.at[prev] {
		if !k.cond || c.contains(k.s, cs, counters) != "" {
			continue
		}
		for _, out := range []*state{pick(taken, k.taken), pick(fall, k.fall)} {
			if out == nil {
				continue
			}
			msg := c.contains(out, cs, counters)
			if msg == "" {
				return nil
			}
			why = append(why, msg)
		}
		if (!taken || k.taken == nil) && (!fall || k.fall == nil) {
			impossible = true
		}
	}
	dir := "not taken"
	if taken {
		dir = "taken"
	}
	if impossible && len(why) == 0 {
		return &Violation{PC: prev, Message: fmt.Sprintf("the branch was %s (to insn %d), which the verifier judged impossible", dir, pc)}
	}
	if len(why) == 0 {
		return nil // the state before the jump is not contained: Step reported it
	}
	return &Violation{PC: prev, Message: fmt.Sprintf("after the branch %s (to insn %d): %s", dir, pc, summarize(why))}
}

func pick(on bool, s *state) *state {
	if on {
		return s
	}
	return nil
}

func summarize(why []string) string {
	if len(why) == 1 {
		return why[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "outside each of the %d abstract states:", len(why))
	for i, w := range why {
		if i == 4 {
			fmt.Fprintf(&b, " (%d more)", len(why)-i)
			break
		}
		fmt.Fprintf(&b, " [%d] %s;", i, w)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// known is a location's concrete number.
type known struct {
	l  loc
	n  int64
	at int // index in the zone, -1 if absent
}

// contains returns "" if the concrete state lies in s, or what does not.
// counters are the trip counts of the loops around the instruction.
func (c *Containment) contains(s *state, cs *Concrete, counters []known) string {
	if d := s.depth(); d != cs.Depth {
		return fmt.Sprintf("call depth %d, the abstract state's is %d", cs.Depth, d)
	}
	if msg := c.held(s, cs); msg != "" {
		return msg
	}
	if msg := c.initialized(s, cs); msg != "" {
		return msg
	}
	var buf [48]known
	nums := append(buf[:0], known{l: locZero})
	nums = append(nums, counters...)
	if cs.Packet {
		nums = append(nums, known{l: locPkt, n: int64(cs.End - cs.Data)}, known{l: locMeta, n: int64(cs.Meta - cs.Data)})
	}
	for r := range s.regs {
		msg, n, ok := c.value(s, locReg(r), s.regs[r], cs.Regs[r], cs)
		if msg != "" {
			return fmt.Sprintf("r%d=%#x: %s", r, cs.Regs[r], msg)
		}
		if ok {
			nums = append(nums, known{l: locReg(r), n: n})
		}
		if s.regs[r].kind == kScalar && s.z.has(locSub32(r)) {
			nums = append(nums, known{l: locSub32(r), n: int64(int32(uint32(cs.Regs[r])))})
		}
		if s.regs[r].kind == kScalar && s.z.has(locU32(r)) {
			nums = append(nums, known{l: locU32(r), n: int64(uint32(cs.Regs[r]))})
		}
	}
	if cs.FramePointer != nil && cs.Load != nil {
		for fi, f := range s.frames {
			fp := cs.FramePointer(fi)
			for _, sp := range f.spill {
				x := cs.Load(fp+uint64(int64(sp.off)), int(sp.size))
				msg, n, ok := c.value(s, locSpill(fi, int(sp.off)), sp.v, x, cs)
				if msg != "" {
					return fmt.Sprintf("frame %d [r10%+d/%d]=%#x: %s", fi, sp.off, sp.size, x, msg)
				}
				if ok {
					nums = append(nums, known{l: locSpill(fi, int(sp.off)), n: n})
				}
			}
		}
	}
	// Every relation the zone holds between two known numbers.
	z := s.z
	n := len(z.locs)
	for i := range nums {
		nums[i].at = z.index(nums[i].l)
	}
	for i, a := range nums {
		if a.at < 0 {
			continue
		}
		row := z.m[a.at*n : a.at*n+n]
		for j, b := range nums {
			if i == j || b.at < 0 {
				continue
			}
			bound := row[b.at]
			if bound == inf {
				continue
			}
			if d, exact := subS(a.n, b.n); (!exact && a.n > b.n) || (exact && d > bound) {
				switch {
				case b.l == locZero:
					return fmt.Sprintf("%s=%d above its bound %d", locName(a.l), a.n, bound)
				case a.l == locZero:
					return fmt.Sprintf("%s=%d below its bound %d", locName(b.l), b.n, negB(bound))
				}
				return fmt.Sprintf("%s-%s=%d-%d breaks %s-%s<=%d", locName(a.l), locName(b.l), a.n, b.n, locName(a.l), locName(b.l), bound)
			}
		}
	}
	return ""
}

// value checks one concrete word x against the abstract value v at
// location l. It returns what does not hold (or ""), and the number the
// zone relates (a scalar's value, a pointer's offset) when there is one.
func (c *Containment) value(s *state, l loc, v value, x uint64, cs *Concrete) (msg string, n int64, ok bool) {
	// A live iterator's slot holds the iterator's two ints, no pointer.
	if x == 0 && v.kind.isPointer() && v.kind != kPktLow32 && v.kind != kFunc && v.kind != kOpaque && v.kind != kBTF && v.kind != kIter {
		if v.null {
			return "", 0, false
		}
		return fmt.Sprintf("NULL where the verifier has %s (not NULL)", v), 0, false
	}
	switch v.kind {
	case kScalar:
		if x < v.umin || x > v.umax {
			return fmt.Sprintf("scalar outside %s", urange(v.umin, v.umax)), 0, false
		}
		if cs.Owned != nil && x >= 1<<32 && cs.Owned(x) {
			return "a number to the verifier, but an address of the run's memory (a pointer leaked as a number)", 0, false
		}
		n = int64(x)
	case kCtx:
		if cs.Context == 0 {
			return "", 0, false
		}
		n = int64(x - cs.Context)
	case kStack:
		if cs.FramePointer == nil {
			return "", 0, false
		}
		if int(v.region) > cs.Depth {
			return fmt.Sprintf("points into frame %d, below the running one", v.region), 0, false
		}
		n = int64(x - cs.FramePointer(int(v.region)))
	case kPacket, kPacketEnd, kPktLow32:
		if !cs.Packet {
			return fmt.Sprintf("%s in a run without a packet", v), 0, false
		}
		switch v.kind {
		case kPacketEnd:
			if x != cs.End {
				return fmt.Sprintf("packet_end, but data_end is %#x", cs.End), 0, false
			}
			return "", 0, false
		case kPktLow32:
			if x > math.MaxUint32 {
				return "pkt_low32 with high bits set", 0, false
			}
			n = int64(int32(uint32(x) - uint32(cs.Data)))
		default:
			n = int64(x - cs.Data)
		}
	case kMapPtr:
		if cs.MapHandle == nil || int(v.region) >= c.users {
			return "", 0, false
		}
		if h, known := cs.MapHandle(int(v.region)); known && h != x {
			return fmt.Sprintf("%s, but the map's handle is %#x", v, h), 0, false
		}
		return "", 0, false
	case kMapValue, kRingbuf:
		if cs.Element == nil {
			return "", 0, false
		}
		var cands []int
		if v.kind == kRingbuf {
			cands = []int{-1}
		} else if int(v.region) < c.users {
			cands = []int{int(v.region)}
		} else if parts, merged := c.a.parts[v.region]; merged {
			for _, p := range parts {
				cands = append(cands, int(p))
			}
		} else {
			return "", 0, false // an inner map's or key's view
		}
		// Of the maps a merged value may point into, the element nearest
		// below x is the one x points into; else the nearest above (a
		// negative offset).
		found := false
		for _, m := range cands {
			if start, in := cs.Element(m, x); in && (!found || closerElement(int64(x-start), n)) {
				n, found = int64(x-start), true
			}
		}
		if lo, hi := s.z.bounds(l); cs.Elements != nil && (!found || n < lo || n > hi) {
			// Outside the bounds from the element it points into: one
			// it may have come from, whose offset is within them.
			for _, m := range cands {
				for _, start := range cs.Elements(m, x) {
					if o := int64(x - start); o >= lo && o <= hi {
						n, found = o, true
						break
					}
				}
			}
		}
		if !found {
			return fmt.Sprintf("%s, but it points into no such element", v), 0, false
		}
		if v.kind == kRingbuf {
			if msg := c.record(v, x, cs); msg != "" {
				return msg, 0, false
			}
		}
	case kSocket:
		if msg := c.socket(v, x, cs); msg != "" {
			return msg, 0, false
		}
		return "", 0, false
	default:
		// Uninitialised, invalid and mixed values cannot be used; functions
		// and opaque pointers carry nothing the run can check.
		return "", 0, false
	}
	if v.tz > 0 {
		if v.tz >= 64 && n != 0 || v.tz < 64 && uint64(n)&(1<<v.tz-1) != 0 {
			return fmt.Sprintf("%s %d, but its low %d bits are known to be 0", v, n, v.tz), 0, false
		}
	}
	return "", n, true
}

// closerElement reports whether offset a from one element names the
// element a pointer points into better than offset b from another: an
// element at or below it (a >= 0) first, the nearest one.
func closerElement(a, b int64) bool {
	if (a >= 0) != (b >= 0) {
		return a >= 0
	}
	if a >= 0 {
		return a < b
	}
	return a > b
}

// Instructions is the number of instructions with a kept state.
func (c *Containment) Instructions() int { return len(c.at) }
