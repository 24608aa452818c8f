package verifier

import (
	"math"

	"github.com/bpfhost/bpfhost/isa"
)

// Counted loops that exit on equality. clang rewrites `for (i = 0; i < 64;
// i++) key = seed + i * 7` into a counter that steps by 7 and leaves when
// it equals 448: no comparison bounds the counter, so neither the zone nor
// proveLoop's span bounds the trip count. proveCountedLoop proves such a
// loop ends by checking an inductive hypothesis instead of finding one:
//
//	H(K): at the head, x = x0 + k*s for some 0 <= k <= K
//
// where x0 is the exact value x enters the loop with on every entry edge,
// s the exact change of x on every trip (measured with a ghost copy, as in
// proveLoop) and x0 + K*s is E - s or E for a constant E that the loop
// compares with. It runs the body once from the head's fixpoint state met
// with x in [x0, x0+K*s] and requires, on every back edge, x - ghost = s
// exactly and x < x0+(K+1)*s (for s > 0; mirrored for s < 0). Then H(K)
// holds at every head visit by induction (x0 + (j+1)*s < x0 + (K+1)*s gives
// j+1 <= K), x takes a new value on each trip, and the loop runs at most
// K+1 times. The constant E only proposes K: a wrong guess fails the check,
// so a stride that skips the exit value, or a counter with no constant end,
// is not proven.

// maxCountedTries bounds the hypotheses tried per loop: each costs a pass
// over the loop body.
const maxCountedTries = 16

// proveCountedLoop tries to bound loop w's trip count as described above.
func (a *analyzer) proveCountedLoop(r *run, w wto) (bool, error) {
	entries := a.loopEntries(r, w.v)
	ends := a.loopConstants(r.fn, w)
	if len(entries) == 0 || len(ends) == 0 {
		return false, nil
	}
	tries := 0
	for _, c := range scalarLocs(r.in[w.v], r.depth) {
		_, _, ok, err := a.countedRange(r, w, c, entries, ends, &tries)
		if err != nil || ok {
			return ok, err
		}
		if tries >= maxCountedTries {
			break
		}
	}
	return false, nil
}

// loopEntries returns the states on the edges into loop head h from
// outside the loop: a missing one is an edge no run takes (the final pass
// keeps a block's outputs until its successors' pass).
func (a *analyzer) loopEntries(r *run, h int) []*state {
	if ov, ok := r.entryOf[h]; ok {
		return []*state{ov}
	}
	fn := r.fn
	var entries []*state
	for _, p := range fn.blocks[h].preds {
		if fn.inComponent(p, h) || r.out[p] == nil {
			continue
		}
		for i, succ := range fn.blocks[p].succs {
			if succ == h && i < len(r.out[p]) {
				entries = append(entries, r.out[p][i]...)
			}
		}
	}
	return entries
}

// countedRange checks hypotheses H(K) for location c of loop w, as
// described above, and returns the range [lo, hi] c stays in at the head
// when one holds. tries counts the passes over the body, at most
// maxCountedTries.
func (a *analyzer) countedRange(r *run, w wto, c loc, entries []*state, ends []int64, tries *int) (lo, hi int64, ok bool, err error) {
	x0, ok := exactOnAll(entries, c)
	if !ok || *tries >= maxCountedTries {
		return 0, 0, false, nil
	}
	*tries++
	step, _, _, ok, err := a.tripFrom(r, w, c, x0, x0)
	if err != nil || !ok || step == 0 {
		return 0, 0, false, err
	}
	for _, end := range ends {
		// The last head value: one step short of the end when the test
		// follows the step, the end itself when it precedes it.
		for _, last := range []int64{end - step, end} {
			d := last - x0
			if last < 0 || d == 0 || (d > 0) != (step > 0) || d%step != 0 || d/step >= a.loopMax {
				continue
			}
			if *tries >= maxCountedTries {
				return 0, 0, false, nil
			}
			*tries++
			lo, hi := min(x0, last), max(x0, last)
			s2, blo, bhi, ok, err := a.tripFrom(r, w, c, lo, hi)
			if err != nil {
				return 0, 0, false, err
			}
			if ok && s2 == step && ((step > 0 && bhi < last+step) || (step < 0 && blo > last+step)) {
				return lo, hi, true, nil
			}
		}
	}
	return 0, 0, false, nil
}

// tripFrom runs loop w's body once from the head's fixpoint state with
// location c met with [lo, hi], and returns the exact change of c on every
// back edge (ok false if it is not one number on all of them) and c's
// bounds there.
func (a *analyzer) tripFrom(r *run, w wto, c loc, lo, hi int64) (step, blo, bhi int64, ok bool, err error) {
	st := r.in[w.v].clone()
	if !meetLoc(st, c, lo, hi) {
		return 0, 0, 0, false, nil
	}
	g := ghostLoc(c)
	st.z.copyLoc(g, c)
	r2, err := a.rerunLoop(r, w, st)
	defer a.done(r2)
	if err != nil {
		return 0, 0, 0, false, err
	}
	blo, bhi = math.MaxInt64, math.MinInt64
	seen := false
	for _, o := range backEdges(r2, w.v) {
		d, ok := exactStep(o, c, g)
		if !ok || (seen && d != step) {
			return 0, 0, 0, false, nil
		}
		step, seen = d, true
		l, h := o.z.bounds(c)
		blo, bhi = min(blo, l), max(bhi, h)
	}
	return step, blo, bhi, seen, nil
}

// backEdges returns the states of run r2 on the edges into loop head h
// from inside its loop.
func backEdges(r2 *run, h int) []*state {
	fn := r2.fn
	var out []*state
	for _, p := range fn.blocks[h].preds {
		if !fn.inComponent(p, h) || r2.out[p] == nil {
			continue
		}
		for i, succ := range fn.blocks[p].succs {
			if succ != h || i >= len(r2.out[p]) {
				continue
			}
			for _, o := range r2.out[p][i] {
				if o != nil {
					out = append(out, o)
				}
			}
		}
	}
	return out
}

// exactStep returns c - g in state o if the zone knows it as one number.
func exactStep(o *state, c, g loc) (int64, bool) {
	if !o.z.has(c) || !o.z.has(g) {
		return 0, false
	}
	up, down := o.z.ub(g, c), o.z.ub(c, g) // c - g in [-up, down]
	if up == inf || down == inf || negB(up) != down {
		return 0, false
	}
	return down, true
}

// meetLoc narrows location c (a register or a spill of the top frame) of
// s to [lo, hi], lo >= 0; false if that empties it or c is neither.
func meetLoc(s *state, c loc, lo, hi int64) bool {
	if lo < 0 || hi < lo {
		return false
	}
	iv := ival{lo, hi, uint64(lo), uint64(hi)}
	if r, ok := regOfLoc(c); ok {
		return s.refine(r, iv)
	}
	if !isSpillLoc(c) {
		return false
	}
	fi := spillFrame(c)
	f := s.frameW(fi)
	i := f.find(spillOffset(c))
	if i < 0 {
		return false
	}
	return s.refineAt(c, &f.spill[i].v, iv)
}

// scalarLocs returns the registers and top-frame spills of s that hold
// scalars the zone tracks: the candidates for a loop's counter.
func scalarLocs(s *state, depth int) []loc {
	var out []loc
	for reg := 0; reg < 10; reg++ {
		if s.regs[reg].kind == kScalar && s.z.has(locReg(reg)) {
			out = append(out, locReg(reg))
		}
	}
	for _, sp := range s.top().spill {
		l := locSpill(depth, int(sp.off))
		if sp.v.kind == kScalar && s.z.has(l) {
			out = append(out, l)
		}
	}
	return out
}

// exactOnAll returns the one non-negative value location c holds, as a
// scalar, in every state.
func exactOnAll(states []*state, c loc) (int64, bool) {
	var x int64
	for i, s := range states {
		v, ok := scalarAt(s, c)
		if !ok || !s.z.has(c) {
			return 0, false
		}
		lo, hi := s.ivalAt(c, v).smin, s.ivalAt(c, v).smax
		if lo != hi || lo < 0 || (i > 0 && lo != x) {
			return 0, false
		}
		x = lo
	}
	return x, len(states) > 0
}

// scalarAt returns the value at location c if it is a scalar.
func scalarAt(s *state, c loc) (value, bool) {
	if r, ok := regOfLoc(c); ok {
		return s.regs[r], s.regs[r].kind == kScalar
	}
	if !isSpillLoc(c) || spillFrame(c) >= len(s.frames) {
		return value{}, false
	}
	f := s.frames[spillFrame(c)]
	i := f.find(spillOffset(c))
	if i < 0 {
		return value{}, false
	}
	return f.spill[i].v, f.spill[i].v.kind == kScalar
}

// loopConstants returns the non-negative immediates that the conditional
// jumps of loop w compare with: the ends a counted loop may stop at.
func (a *analyzer) loopConstants(fn *function, w wto) []int64 {
	var out []int64
	seen := map[int64]bool{}
	var walk func(ws []wto)
	add := func(v int) {
		b := fn.blocks[v]
		for pc := b.start; pc < b.end; pc++ {
			ins := a.prog[pc]
			if ins.IsConditionalJump() && ins.Opcode.Source() == isa.SourceK && ins.Imm >= 0 && !seen[int64(ins.Imm)] {
				seen[int64(ins.Imm)] = true
				out = append(out, int64(ins.Imm))
			}
		}
	}
	walk = func(ws []wto) {
		for _, x := range ws {
			add(x.v)
			walk(x.body)
		}
	}
	add(w.v)
	walk(w.body)
	return out
}

// rerunLoop runs loop w once more from state st at its head (st carries
// ghost locations) and returns the run with the body's states. The run
// accounts only for the states it stores itself (its byte counts start at
// zero); the caller gives them back with a.done when it has read them.
func (a *analyzer) rerunLoop(r *run, w wto, st *state) (*run, error) {
	h := w.v
	r2 := &run{fn: r.fn, depth: r.depth, kind: r.kind, cb: r.cb, entry: r.entry, narrow: r.narrow,
		in: append([]*state(nil), r.in...), out: append([][][]*state(nil), r.out...),
		inBytes: make([]int64, len(r.in)), outBytes: make([]int64, len(r.out))}
	if err := a.setIn(r2, h, st); err != nil {
		return r2, err
	}
	// The body's states from the fixpoint lack the ghosts: drop them, or
	// an inner loop's head would join them in before its first trip and
	// lose every ghost.
	var drop func(ws []wto)
	drop = func(ws []wto) {
		for _, x := range ws {
			r2.out[x.v], r2.outBytes[x.v] = nil, 0
			drop(x.body)
		}
	}
	drop(w.body)
	if err := a.processBlock(r2, h, st); err != nil {
		return r2, err
	}
	if err := a.iterate(r2, w.body); err != nil {
		return r2, err
	}
	return r2, nil
}
