package verifier

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// state is the abstract state at one program point: registers, the stack
// frames of the active calls, the zone, and the resources held.
type state struct {
	regs   [11]value
	frames []*frame // frames[len-1] is the running function's
	// own has bit i set when frames[i] belongs to this state alone;
	// shared frames are copied before they change (frameW).
	own uint16
	z   *zone
	// refs are the ring buffer records acquired and not yet released,
	// sorted; each is the id of the record's values.
	refs []int32
	// lock is set while a bpf_spin_lock is held; lockOf says whose.
	lock   bool
	lockOf lockOwner
	// a is the analysis the state belongs to (its map table).
	a *analyzer
}

// clone copies the state. Frames are shared with the copy until either
// side changes them.
func (s *state) clone() *state {
	s.a.chargeCells(len(s.z.m))
	c := &state{regs: s.regs, z: s.z.clone(), refs: append([]int32(nil), s.refs...), lock: s.lock, lockOf: s.lockOf, a: s.a}
	c.frames = make([]*frame, len(s.frames), len(s.frames)+1)
	copy(c.frames, s.frames)
	s.own = 0
	return c
}

// cloneInto is clone into c's memory (c may be nil), for a copy that
// lives only until the next cloneInto.
func (s *state) cloneInto(c *state) *state {
	if c == nil {
		return s.clone()
	}
	s.a.chargeCells(len(s.z.m))
	z := c.z
	z.locs = append(z.locs[:0], s.z.locs...)
	z.m = append(z.m[:0], s.z.m...)
	z.open = s.z.open
	*c = state{regs: s.regs, frames: append(c.frames[:0], s.frames...), z: z, refs: append(c.refs[:0], s.refs...), lock: s.lock, lockOf: s.lockOf, a: s.a}
	s.own = 0
	return c
}

// frameW returns frame i for changing, copying it first if it is shared.
func (s *state) frameW(i int) *frame {
	if s.own&(1<<i) == 0 {
		s.frames[i] = s.frames[i].clone()
		s.own |= 1 << i
	}
	return s.frames[i]
}

// ownAll marks every frame as the state's own (fresh frames).
func (s *state) ownAll() { s.own = 1<<len(s.frames) - 1 }

func (s *state) depth() int  { return len(s.frames) - 1 }
func (s *state) top() *frame { return s.frames[len(s.frames)-1] }

// ival returns the numeric interval of a register.
func (s *state) ival(r int) ival { return s.ivalAt(locReg(r), s.regs[r]) }

func (s *state) ivalAt(l loc, v value) ival {
	lo, hi := s.z.bounds(l)
	iv := ival{lo, hi, 0, math.MaxUint64}
	if v.kind == kScalar {
		iv.umin, iv.umax = v.umin, v.umax
	}
	return iv.norm().align(v.tz)
}

// set stores v in register r with the numbers of iv (no relations).
func (s *state) set(r int, v value, iv ival) {
	s.setAt(locReg(r), &s.regs[r], v, iv)
}

func (s *state) setAt(l loc, slot *value, v value, iv ival) {
	iv = iv.norm()
	if iv.isConst() {
		v.tz = tzOf(iv.umin)
	}
	if aligned := iv.align(v.tz); !aligned.empty() || iv.empty() {
		iv = aligned
	} else {
		// A value of a reachable state has both its range and its known
		// low bits, so they cannot contradict each other: if they do, one
		// is wrong, and an empty range would make the rest of the path
		// unreachable, unchecked. Keep the range, forget the bits.
		v.tz = 0
	}
	if v.kind == kScalar {
		v.umin, v.umax = iv.umin, iv.umax
	}
	*slot = v
	if v.kind.hasOffset() {
		s.z.setBounds(l, iv.smin, iv.smax)
	} else {
		s.z.forget(l)
	}
	if r, ok := regOfLoc(l); ok {
		s.forgetSub32Reg(r) // a new value (sub32.go; step drops it too)
	}
}

// setUninit clobbers register r.
func (s *state) setUninit(r int) {
	s.regs[r] = uninit
	s.z.forget(locReg(r))
	s.forgetSub32Reg(r)
}

// refine narrows the numbers of register r to iv; false if that empties
// the state.
func (s *state) refine(r int, iv ival) bool { return s.refineAt(locReg(r), &s.regs[r], iv) }

func (s *state) refineAt(l loc, slot *value, iv ival) bool {
	if !slot.kind.hasOffset() {
		return true
	}
	cur := s.ivalAt(l, *slot).meet(iv)
	if cur.empty() {
		return false
	}
	if slot.kind == kScalar {
		slot.umin, slot.umax = cur.umin, cur.umax
	}
	return s.z.meetBounds(l, cur.smin, cur.smax)
}

// sync pushes the unsigned bounds of scalars into the zone's signed ones
// and back, after relational constraints changed the zone.
func (s *state) sync() bool {
	for r := range s.regs {
		if s.regs[r].kind == kScalar {
			if !s.refine(r, s.ival(r)) {
				return false
			}
		}
	}
	return true
}

// copyReg sets register dst to src's value, keeping every relation.
func (s *state) copyReg(dst, src int) {
	s.regs[dst] = s.regs[src]
	if s.regs[src].kind.hasOffset() {
		s.z.copyLoc(locReg(dst), locReg(src))
	} else {
		s.z.forget(locReg(dst))
	}
}

// eachValue calls f for every value slot of the state with its location:
// registers, spills and saved registers of every frame.
func (s *state) eachValue(f func(l loc, v *value)) {
	for r := range s.regs {
		f(locReg(r), &s.regs[r])
	}
	// Frames may be shared: f works on a copy of each value, and a frame
	// is copied only when one of its values changes.
	// One copy for all: f's argument escapes, so each would be allocated.
	var v value
	for fi, fr := range s.frames {
		for i := range fr.spill {
			v = fr.spill[i].v
			f(locSpill(fi, int(fr.spill[i].off)), &v)
			if v != fr.spill[i].v {
				fr = s.frameW(fi)
				fr.spill[i].v = v
			}
		}
		for i := range fr.saved {
			v = fr.saved[i]
			f(locSaved(fi, 6+i), &v)
			if v != fr.saved[i] {
				fr = s.frameW(fi)
				fr.saved[i] = v
			}
		}
	}
}

// invalidate turns every value for which bad is true into an invalid
// pointer with the given reason.
func (s *state) invalidate(bad func(v value) bool, why int32, pc int) {
	s.eachValue(func(l loc, v *value) {
		if bad(*v) {
			*v = value{kind: kInvalid, region: why, origin: int32(pc)}
			s.z.forget(l)
		}
	})
}

// hasRef reports whether the record id is held.
func (s *state) hasRef(id int32) bool {
	i := sort.Search(len(s.refs), func(i int) bool { return s.refs[i] >= id })
	return i < len(s.refs) && s.refs[i] == id
}

func (s *state) addRef(id int32) {
	if s.hasRef(id) {
		return
	}
	s.refs = append(s.refs, id)
	sort.Slice(s.refs, func(i, j int) bool { return s.refs[i] < s.refs[j] })
}

func (s *state) dropRef(id int32) {
	for i, r := range s.refs {
		if r == id {
			s.refs = append(s.refs[:i:i], s.refs[i+1:]...)
			return
		}
	}
}

// isZero reports whether the value at l is the scalar 0.
func (s *state) isZero(l loc, v value) bool {
	if v.kind != kScalar || v.umax != 0 {
		return false
	}
	return true
}

// join returns the least upper bound of two states of the same function.
// widen, when set, widens a by b instead (a is the older state).
func join(a, b *state, widen bool, th *thresholds) *state {
	op := opJoin
	if widen {
		op = opWiden
	}
	return joinWith(a, b, op, th, true)
}

// joinWith joins (or widens) two states; without withZone the result has
// no zone, for callers that only need the types or build the zone
// themselves. Each component is joined by its own domain (domains.go):
// the values location by location, the frames, the zone over the
// locations the values keep, the refs and the lock.
func joinWith(a, b *state, op combineOp, th *thresholds, withZone bool) *state {
	return joinInto(a, b, op, th, withZone, false)
}

// joinOwned is join(a, b, false, nil) for an a that nothing else refers
// to and that is dropped after: the result's zone takes over a's memory
// where the two zones have the same locations and keep them all.
func joinOwned(a, b *state) *state { return joinInto(a, b, opJoin, nil, true, true) }

// joinInto is joinWith; with reuse (a is dropped after), a's zone may
// become the result's.
func joinInto(a, b *state, op combineOp, th *thresholds, withZone, reuse bool) *state {
	if len(a.frames) != len(b.frames) {
		panic("verifier: joining states of different call depths")
	}
	widen := op == opWiden || op == opWidenOpen
	r := &state{lock: a.lock || b.lock, lockOf: joinLockOwners(a, b), a: a.a}
	var merge func(k kind, x, y int32) int32
	if a.a != nil {
		merge = a.a.mergeRegions
	}
	// drop collects the locations whose numbers the joined zone drops.
	var dropBuf [32]loc
	drop := dropBuf[:0]
	dropLoc := func(l loc) { drop = append(drop, l) }
	za, zb := a.z, b.z
	jv := func(l loc, x, y value) value {
		v, dropped := joinValueAt(a, b, l, x, y, merge, widen, th)
		if dropped {
			drop = append(drop, l)
		}
		return v
	}
	for i := range a.regs {
		r.regs[i] = jv(locReg(i), a.regs[i], b.regs[i])
	}
	r.frames = make([]*frame, len(a.frames))
	for fi := range a.frames {
		f, shared := joinFrame(fi, a.frames[fi], b.frames[fi], za, zb, jv, dropLoc)
		if !shared {
			r.own |= 1 << fi
		}
		r.frames[fi] = f
	}
	if withZone {
		var dropFn func(loc) bool
		if len(drop) > 0 {
			slices.Sort(drop)
			dropFn = func(l loc) bool {
				_, found := slices.BinarySearch(drop, l)
				return found
			}
		}
		if reuse && op == opJoin && slices.Equal(za.locs, zb.locs) && !slices.ContainsFunc(drop, za.has) {
			// What combine does, in za's matrix.
			combineSame(za.m, za.m, zb.m, opJoin, nil)
			n := len(za.locs)
			for i := 0; i < n; i++ {
				za.m[i*n+i] = 0
			}
			za.open = za.open || zb.open
			za.work = 0 // as a new zone's: za's own is dropped with a
			r.z = za
		} else {
			r.z = za.lattice(zb, op, th, dropFn)
		}
	}
	if r.z != nil {
		a.a.chargeCells(len(za.m) + len(zb.m) + int(r.z.work))
		r.z.work = 0
	}
	// Refs held on either path are held.
	r.refs = joinRefs(a, b)
	return r
}

// joinValueAt joins the values x (of a) and y (of b) at l (joinValue); with
// widen, x is the older. A value that keeps no number, or whose number is
// missing from either zone, has its location dropped (dropped is true).
func joinValueAt(a, b *state, l loc, x, y value, merge func(k kind, x, y int32) int32, widen bool, th *thresholds) (v value, dropped bool) {
	v, keep := joinValue(x, y, a.isZero(l, x), b.isZero(l, y), merge, widen, th)
	if keep && (!a.z.has(l) || !b.z.has(l)) {
		keep = false
		if v.kind == kScalar {
			v = uninit
		}
	}
	if !keep && v.kind.hasOffset() {
		v = value{kind: kMixed}
	}
	return v, !keep
}

// joinFrame joins frame fi of two states whose zones are za and zb: the
// shape, the saved registers and the spills both have at the same place,
// each value joined by jv. dropLoc is told the locations whose numbers
// the joined zone drops. shared reports that the result is the frame
// both sides share.
func joinFrame(fi int, fa, fb *frame, za, zb *zone, jv func(l loc, x, y value) value, dropLoc func(loc)) (f *frame, shared bool) {
	if fa == fb && joinsToItself(fa, fi, za, zb) {
		// A frame both sides share joins to itself: share it too,
		// dropping what the general path below would.
		for i, v := range fa.saved {
			if !v.kind.hasOffset() {
				dropLoc(locSaved(fi, 6+i))
			}
		}
		for _, sp := range fa.spill {
			if !sp.v.kind.hasOffset() {
				dropLoc(locSpill(fi, int(sp.off)))
			}
		}
		return fa, true
	}
	f = joinFrameShape(fa, fb)
	for i := range fa.saved {
		f.saved[i] = jv(locSaved(fi, 6+i), fa.saved[i], fb.saved[i])
	}
	// Spills present in both at the same place.
	i, j := 0, 0
	for i < len(fa.spill) && j < len(fb.spill) {
		sa, sb := fa.spill[i], fb.spill[j]
		switch {
		case sa.off == sb.off && sa.size == sb.size:
			l := locSpill(fi, int(sa.off))
			v := jv(l, sa.v, sb.v)
			if v.kind != kUninit && v.kind != kMixed && v.kind != kInvalid {
				f.spill = append(f.spill, spill{off: sa.off, size: sa.size, v: v})
			} else {
				dropLoc(l)
				if v.kind != kUninit {
					// Whatever it is, it may be a pointer.
					f.ptr.setRange(int(sa.off)+frameSize, int(sa.off)+frameSize+int(sa.size), true)
				}
			}
			i++
			j++
		case sa.off < sb.off || (sa.off == sb.off && sa.size < sb.size):
			dropLoc(locSpill(fi, int(sa.off)))
			i++
		default:
			dropLoc(locSpill(fi, int(sb.off)))
			j++
		}
	}
	for ; i < len(fa.spill); i++ {
		dropLoc(locSpill(fi, int(fa.spill[i].off)))
	}
	for ; j < len(fb.spill); j++ {
		dropLoc(locSpill(fi, int(fb.spill[j].off)))
	}
	return f, false
}

// joinsToItself reports whether joining frame fi with itself gives it
// back: every value that keeps a number has it in both zones, and no
// spill holds a value the join would remove.
func joinsToItself(f *frame, fi int, za, zb *zone) bool {
	for i, v := range f.saved {
		if v.kind.hasOffset() {
			l := locSaved(fi, 6+i)
			if !za.has(l) || !zb.has(l) {
				return false
			}
		}
	}
	for _, sp := range f.spill {
		switch k := sp.v.kind; {
		case k == kUninit || k == kMixed || k == kInvalid:
			return false
		case k.hasOffset():
			l := locSpill(fi, int(sp.off))
			if !za.has(l) || !zb.has(l) {
				return false
			}
		}
	}
	return true
}

// narrowState narrows a (a post-fixpoint) with b, an iterate below it:
// the values and frames are joined and the registers' values narrowed
// (narrowValue), and the zone is narrowed.
func narrowState(a, b *state) *state {
	r := joinWith(a, b, opJoin, nil, false)
	r.z = a.z.narrow(b.z)
	for i := range r.regs {
		r.regs[i] = narrowValue(r.regs[i], a.regs[i], b.regs[i])
	}
	return r
}

// leq reports whether a is contained in b (a sufficient check: every
// bound b has, a has too): each domain by its own order (domains.go).
func leq(a, b *state) bool {
	if len(a.frames) != len(b.frames) {
		panic("verifier: comparing states of different call depths")
	}
	var merge func(k kind, x, y int32) int32
	if b.a != nil {
		merge = b.a.mergeRegions
	}
	jv := func(l loc, x, y value) value {
		v, _ := joinValueAt(b, a, l, x, y, merge, false, nil)
		return v
	}
	// Every value and frame is compared, with no early return: joining
	// values may merge map regions, and the analysis sees the same merges
	// as it did when states were ordered by joining them whole.
	ok := true
	for i := range a.regs {
		ok = leqValue(jv, locReg(i), a.regs[i], b.regs[i]) && ok
	}
	for fi := range a.frames {
		ok = leqFrame(fi, a.frames[fi], b.frames[fi], a.z, b.z, jv) && ok
	}
	return ok && leqLock(a, b) && leqRefs(a, b) && zoneCovered(a.z, b.z)
}

func (s *state) equalTypes(o *state) bool {
	if s.regs != o.regs || len(s.frames) != len(o.frames) || s.lock != o.lock || s.lockOf != o.lockOf || len(s.refs) != len(o.refs) {
		return false
	}
	for i := range s.frames {
		if !s.frames[i].equal(o.frames[i]) {
			return false
		}
	}
	for i := range s.refs {
		if s.refs[i] != o.refs[i] {
			return false
		}
	}
	return true
}

func (s *state) equal(o *state) bool { return s.equalTypes(o) && s.z.equal(o.z) }

// String prints the state for verbose output.
func (s *state) String() string {
	var b strings.Builder
	for r, v := range s.regs {
		if v.kind == kUninit {
			continue
		}
		fmt.Fprintf(&b, " r%d=%s", r, v)
		if v.kind.hasOffset() {
			iv := s.ival(r)
			if v.kind == kScalar {
				fmt.Fprintf(&b, "%s", iv)
			} else {
				fmt.Fprintf(&b, "%s", ival{iv.smin, iv.smax, 0, math.MaxUint64}.signedString())
			}
		}
	}
	if s.z.has(locPkt) {
		lo, hi := s.z.bounds(locPkt)
		fmt.Fprintf(&b, " pkt_size=%s", ival{lo, hi, 0, math.MaxUint64}.signedString())
	}
	for i, f := range s.frames {
		if str := f.String(); str != "" {
			fmt.Fprintf(&b, " frame%d{%s}", i, str)
		}
	}
	// Relations between distinct non-zero locations.
	var rel []string
	for i, a := range s.z.locs {
		for j, c := range s.z.locs {
			if i == 0 || j == 0 || i == j {
				continue
			}
			if u := s.z.m[i*len(s.z.locs)+j]; u != inf {
				la, ha := s.z.bounds(a)
				lc, _ := s.z.bounds(c)
				// Skip bounds implied by the intervals alone.
				if ha != inf && lc != math.MinInt64 && addB(ha, negB(lc)) <= u {
					continue
				}
				_ = la
				rel = append(rel, fmt.Sprintf("%s-%s<=%d", locName(a), locName(c), u))
			}
		}
	}
	if len(rel) > 0 {
		fmt.Fprintf(&b, " {%s}", strings.Join(rel, ", "))
	}
	if len(s.refs) > 0 {
		fmt.Fprintf(&b, " refs=%v", s.refs)
	}
	if s.lock {
		b.WriteString(" lock")
	}
	return strings.TrimSpace(b.String())
}

func (v ival) signedString() string {
	if v.smin == v.smax {
		return fmt.Sprintf("%+d", v.smin)
	}
	return fmt.Sprintf("[%s, %s]", sstr(v.smin), sstr(v.smax))
}

func locName(l loc) string {
	switch {
	case l == locPkt:
		return "pkt_size"
	case l == locMeta:
		return "meta"
	case isCounterLoc(l):
		return fmt.Sprintf("loop%d", counterPC(l))
	case isSpillLoc(l):
		return fmt.Sprintf("fp%d[%d]", spillFrame(l), spillOffset(l))
	case isSavedLoc(l):
		return fmt.Sprintf("saved%d.r%d", savedFrame(l), int(l-64)%16)
	}
	if r, ok := regOfLoc(l); ok {
		return fmt.Sprintf("r%d", r)
	}
	if isSub32Loc(l) {
		if l >= locU32(0) {
			return fmt.Sprintf("w%d(u32)", int(l-locU32(0)))
		}
		return fmt.Sprintf("w%d(s32)", int(l)-32)
	}
	return fmt.Sprintf("loc%d", l)
}

// normalize rounds every tracked number to its known alignment.
func (s *state) normalize() bool {
	ok := true
	s.eachValue(func(l loc, v *value) {
		if ok && v.tz > 0 && v.kind.hasOffset() && s.z.has(l) {
			ok = s.refineAt(l, v, s.ivalAt(l, *v))
		}
	})
	return ok
}
