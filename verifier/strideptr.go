package verifier

import "math"

// Pointers that step through an array in a counted loop. clang turns
// `for (i = 0; i < n; i++) if (ports[i] == x) ...` into a counter i and a
// pointer p = &ports[0] that advances by the element size on each trip:
// the zone cannot relate p's offset to i (p = p0 + 2*i has a coefficient),
// so widening takes the offset to a threshold, adding the stride then
// leaves the range a pointer may have, and the pointer is lost at the
// head (a number on the back edge, a pointer on entry: "different kinds").
//
// boundStrided proves the offset's range from the trip count instead. For
// a counter c (a scalar at the head entering as x0 on every entry edge)
// and a pointer register p (the same pointer on every entry edge, offset
// exactly p0), it checks the hypothesis
//
//	P(K): at the j-th visit of the head (0 on entry), c = x0 + j*sc,
//	      p is that pointer with offset p0 + j*sp, and j <= K
//
// with K = (hi - x0) / sc for the bound hi of c at the head (mirrored for
// sc < 0). It runs the body once from the head's fixpoint state with p
// set to that pointer and its offset met with [p0, p0+K*sp] (a state that
// covers every visit where P holds: the fixpoint covers the rest), and
// requires on every back edge: c - ghost(c) = sc and p - ghost(p) = sp
// exactly, p still that pointer (not NULL), and c <= x0 + K*sc (>= for
// sc < 0). Then a visit j where P holds leads to a visit j+1 with c =
// x0+(j+1)*sc <= x0+K*sc, so j+1 <= K, and p's offset p0+(j+1)*sp: P holds
// at every visit by induction, and p's offset stays in [p0, p0+K*sp]. The
// bound on c is only what proposes K; the check on the back edges is the
// proof, so a body that moves c or p by anything else, or a bound that
// does not hold, is not proven and nothing changes.

// ptrBound is a range proven for a pointer register at a loop head: its
// value on entry (off0 is its offset there), the range of its offset, and
// the counter c (entering as x0) whose bound proved it.
type ptrBound struct {
	reg              int
	v                value
	off0, lo, hi, x0 int64
	c                loc
}

// stridedKind reports whether a pointer of kind k may be bounded as a
// strided pointer: one whose offset is its location's number and that
// holds no reference.
func stridedKind(k kind) bool {
	return k == kMapValue || k == kStack || k == kPacket
}

// boundStrided bounds strided pointer registers at loop w's head as
// described above: it meets the head's state with each range proven,
// records them (run.ptrBounds) and runs the body again from the head.
func (a *analyzer) boundStrided(r *run, w wto) error {
	h := w.v
	head := r.in[h]
	if head == nil || (a.opts.test != nil && a.opts.test.noTerm) {
		return nil
	}
	entries := a.loopEntries(r, h)
	if len(entries) == 0 {
		return nil
	}
	var ptrs []int
	for reg := 0; reg < 10; reg++ {
		v, off0, ok := exactPtrOnAll(entries, reg)
		if !ok {
			continue
		}
		if cur := head.regs[reg]; cur.kind != kMixed && (cur.kind != v.kind || cur.region != v.region) {
			continue
		}
		if cur := head.regs[reg]; cur.kind == v.kind && head.z.has(locReg(reg)) {
			if lo, hi := head.z.bounds(locReg(reg)); lo == off0 && hi == off0 {
				continue // the same offset on every visit: nothing to prove
			}
		}
		ptrs = append(ptrs, reg)
	}
	if len(ptrs) == 0 {
		return nil
	}
	tries := 0
	var found []ptrBound
	for _, c := range scalarLocs(head, r.depth) {
		if tries >= maxCountedTries {
			break
		}
		x0, ok := exactOnAll(entries, c)
		clo, chi := head.z.bounds(c)
		if !ok || clo == -inf || chi == inf {
			continue
		}
		for _, reg := range ptrs {
			if tries >= maxCountedTries {
				break
			}
			if slicesHasReg(found, reg) {
				continue
			}
			v, off0, _ := exactPtrOnAll(entries, reg)
			tries++
			sc, sp, ok, err := a.stridedSteps(r, w, c, reg, v, off0, off0, x0)
			if err != nil {
				return err
			}
			if !ok || sc == 0 || sp == 0 {
				continue
			}
			var k int64
			if sc > 0 {
				k = (chi - x0) / sc
			} else {
				k = (x0 - clo) / -sc
			}
			if k <= 0 || k >= a.loopMax || k > maxPtrOff/abs64(sp) {
				continue
			}
			lo, hi := off0, off0+k*sp
			if hi < lo {
				lo, hi = hi, lo
			}
			if lo <= -maxPtrOff || hi >= maxPtrOff {
				continue
			}
			tries++
			sc2, sp2, ok, err := a.stridedSteps(r, w, c, reg, stridedValue(v, sp), lo, hi, x0+k*sc)
			if err != nil {
				return err
			}
			if ok && sc2 == sc && sp2 == sp {
				found = append(found, ptrBound{reg: reg, v: stridedValue(v, sp), off0: off0, lo: lo, hi: hi, x0: x0, c: c})
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	n := head.clone()
	for _, b := range found {
		if !installPtr(n, b) {
			return nil
		}
	}
	if r.ptrBounds == nil {
		r.ptrBounds = map[int][]ptrBound{}
	}
	r.ptrBounds[h] = found
	if err := a.setIn(r, h, n); err != nil {
		return err
	}
	if err := a.processBlock(r, h, n); err != nil {
		return err
	}
	return a.iterate(r, w.body)
}

func slicesHasReg(bs []ptrBound, reg int) bool {
	for _, b := range bs {
		if b.reg == reg {
			return true
		}
	}
	return false
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// stridedValue is the pointer v entered the loop with, as it is at every
// visit of the head: its offset's known trailing zeros are those both the
// start and the stride have.
func stridedValue(v value, sp int64) value {
	v.tz = min(v.tz, tzOf(uint64(abs64(sp))))
	return v
}

// installPtr sets register b.reg of s to b's pointer with its offset in
// [b.lo, b.hi]; false if that leaves nothing.
func installPtr(s *state, b ptrBound) bool {
	s.set(b.reg, b.v, ival{b.lo, b.hi, 0, math.MaxUint64})
	return s.refine(b.reg, ival{b.lo, b.hi, 0, math.MaxUint64})
}

// stridedSteps runs loop w's body once from the head's fixpoint state with
// register reg set to pointer v with its offset in [lo, hi], and returns
// the exact changes of counter c and of the pointer's offset on every back
// edge. ok is false unless both are one number on all of them, the
// register holds a pointer of v's kind and region (not NULL) on each, and
// c is at most last (sc > 0) or at least last (sc < 0) there, for
// last the value of c at the last visit proposed (x0 for the first run,
// whose answers are checked by the second).
func (a *analyzer) stridedSteps(r *run, w wto, c loc, reg int, v value, lo, hi, last int64) (sc, sp int64, ok bool, err error) {
	st := r.in[w.v].clone()
	first := lo == hi
	if !installPtr(st, ptrBound{reg: reg, v: v, lo: lo, hi: hi}) {
		return 0, 0, false, nil
	}
	if first && !meetLoc(st, c, last, last) {
		return 0, 0, false, nil
	}
	lp := locReg(reg)
	gc, gp := ghostLoc(c), ghostLoc(lp)
	st.z.copyLoc(gc, c)
	st.z.copyLoc(gp, lp)
	r2, err := a.rerunLoop(r, w, st)
	defer a.done(r2)
	if err != nil {
		return 0, 0, false, err
	}
	seen := false
	for _, o := range backEdges(r2, w.v) {
		pv := o.regs[reg]
		if pv.kind != v.kind || pv.region != v.region || pv.null {
			return 0, 0, false, nil
		}
		if _, isScalar := scalarAt(o, c); !isScalar {
			return 0, 0, false, nil
		}
		dc, okc := exactStep(o, c, gc)
		dp, okp := exactStep(o, lp, gp)
		if !okc || !okp || (seen && (dc != sc || dp != sp)) {
			return 0, 0, false, nil
		}
		sc, sp, seen = dc, dp, true
		if !first {
			l, h := o.z.bounds(c)
			if (sc > 0 && h > last) || (sc < 0 && l < last) {
				return 0, 0, false, nil
			}
		}
	}
	return sc, sp, seen, nil
}

// exactPtrOnAll returns the pointer register reg holds in every state,
// with its one offset there: the same kind and region (a strided kind,
// never NULL) and the same offset in all.
func exactPtrOnAll(states []*state, reg int) (value, int64, bool) {
	var v value
	var off int64
	for i, s := range states {
		x := s.regs[reg]
		if !stridedKind(x.kind) || x.null || !s.z.has(locReg(reg)) {
			return value{}, 0, false
		}
		lo, hi := s.z.bounds(locReg(reg))
		if lo != hi || lo == inf || lo == -inf {
			return value{}, 0, false
		}
		if i == 0 {
			v, off = x, lo
			continue
		}
		if x.kind != v.kind || x.region != v.region || lo != off {
			return value{}, 0, false
		}
		if x.id != v.id {
			v.id = 0
		}
		v.tz = min(v.tz, x.tz)
	}
	return v, off, len(states) > 0
}

// headPtrInput meets the input in of loop head h with the ranges proven
// for its strided pointers (boundStrided), where the input holds the same
// pointer and every entry edge still enters with the offset and the
// counter value the proof assumed; other inputs are left as they are (the
// final pass's check that the head covers them decides). in is owned by
// the caller.
func headPtrInput(r *run, entries []*state, h int, in *state) bool {
	for _, b := range r.ptrBounds[h] {
		v, off0, ok := exactPtrOnAll(entries, b.reg)
		if !ok || v.kind != b.v.kind || v.region != b.v.region || off0 != b.off0 {
			continue
		}
		if x0, ok := exactOnAll(entries, b.c); !ok || x0 != b.x0 {
			continue
		}
		x := in.regs[b.reg]
		if x.kind != b.v.kind || x.region != b.v.region || x.null {
			continue
		}
		if !in.refine(b.reg, ival{b.lo, b.hi, 0, math.MaxUint64}) {
			return false
		}
	}
	return true
}
