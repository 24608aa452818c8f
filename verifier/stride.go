package verifier

// Counters of counted loops, bounded at the head. clang turns `for (i = 0;
// i < 40; i++) sum += p[i * 5]` into an offset that steps by 5 and a test
// `off == 200`: the zone cannot express "a multiple of 5 below 200", so
// widening leaves the offset unbounded and the read in the body is
// refused, although the loop's trip count is proven (looptrip.go). The
// same proof gives the range: once H(K) holds for a location c (c = x0 +
// k*s with 0 <= k <= K at every visit of the head, by induction over the
// trips), every run's state at the head has c in [x0, x0+K*s]. boundCounted
// meets the head's fixpoint state with that range after the loop's
// fixpoint is reached, and records it (run.bounds): the states flowing
// into the head are met with it too before they are compared with the
// head's (headInput), which the induction justifies, since each of them is
// a state at the head of some run. The range is sound whatever the body
// does with c: the hypothesis is checked on the analysis of the body from
// the met state, not assumed.

// countBound is a range proven for a location at a loop head.
type countBound struct {
	c          loc
	x0, lo, hi int64 // c's value on entry, and its range
}

// boundCounted looks for a location of loop w's head state that the
// widening left unbounded above and that counts to a constant end
// (countedRange); if it finds one, it narrows the head's state to its
// range, records it, and runs the loop body again from the narrowed head.
func (a *analyzer) boundCounted(r *run, w wto) error {
	h := w.v
	head := r.in[h]
	if head == nil || (a.opts.test != nil && a.opts.test.noTerm) {
		return nil
	}
	var cands []loc
	for _, c := range scalarLocs(head, r.depth) {
		if _, hi := head.z.bounds(c); hi == inf {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	entries := a.loopEntries(r, h)
	ends := a.loopConstants(r.fn, w)
	if len(entries) == 0 || len(ends) == 0 {
		return nil
	}
	tries := 0
	for _, c := range cands {
		x0, _ := exactOnAll(entries, c)
		lo, hi, ok, err := a.countedRange(r, w, c, entries, ends, &tries)
		if err != nil {
			return err
		}
		if !ok {
			if tries >= maxCountedTries {
				return nil
			}
			continue
		}
		n := head.clone()
		if !meetLoc(n, c, lo, hi) {
			continue
		}
		if r.bounds == nil {
			r.bounds = map[int]countBound{}
		}
		r.bounds[h] = countBound{c: c, x0: x0, lo: lo, hi: hi}
		if err := a.setIn(r, h, n); err != nil {
			return err
		}
		if err := a.processBlock(r, h, n); err != nil {
			return err
		}
		return a.iterate(r, w.body)
	}
	return nil
}

// headInput is input for loop head h, met with the range proven for its
// counter (boundCounted) and for its strided pointers (boundStrided); nil
// if that leaves nothing. The proof assumed the counter enters the loop as
// x0: if an entry edge now says otherwise, the input is left as it is (and
// the final pass's check that the head covers it decides).
func (a *analyzer) headInput(r *run, h int) *state {
	in := a.input(r, h)
	b, ok := r.bounds[h]
	pbs := r.ptrBounds[h]
	if in == nil || (!ok && len(pbs) == 0) {
		return in
	}
	entries := a.loopEntries(r, h)
	if in == r.entry {
		in = in.clone()
	}
	if x0, exact := exactOnAll(entries, b.c); ok && exact && x0 == b.x0 {
		if !meetLoc(in, b.c, b.lo, b.hi) {
			return nil
		}
	}
	if !headPtrInput(r, entries, h, in) {
		return nil
	}
	return in
}
