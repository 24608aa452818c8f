package verifier

import (
	"errors"
	"math"

	"github.com/bpfhost/bpfhost/isa"
)

// Path sensitivity by bounded disjunction (decision 0020). Where paths
// meet, joining their states can lose what a later test needs: a register
// that is a pointer on one path and a number, NULL or nothing on the
// other (the join is "mixed" or "maybe NULL"), a value of one map on one
// path and of another on the other, a number negative on one path and not
// on the other, a number on one path and nothing on the other (decision
// 0030), or a packet range proven on one path only (the join keeps the
// shorter). Linux follows the paths
// apart, and a later test that repeats an earlier decision (`if (flag)`
// twice) then sees each path alone. bpfhost keeps up to maxDisjuncts
// states apart at the input of a block that heads no loop when joining
// them would lose one of those facts, processes the block once per state,
// and joins beyond that (into the state whose join loses the least). Loop
// heads always join, so widening converges as before; but the states
// entering a loop of a function's top level from outside are partitioned
// the same way, and the loop is analysed once per group of them
// (componentGroups), so that paths kept apart before a loop stay apart
// after it. Every state kept is a sound description of the paths it
// stands for, so the analysis stays sound whatever the partition, and
// only its cost and precision depend on it.
//
// Which facts matter is judged on the registers and the running
// function's stack slots live at the block's start (liveness.go: a dead
// register or slot that differs, which clang's register and stack reuse
// make common, is no reason to split), and on the callers' spills.

// maxDisjuncts is how many states a block's input keeps apart: 16 since
// decision 0030 (Cilium's XDP NAT tail calls need more than 8; the first,
// joined analysis makes it cost nothing on programs the join accepts).
const maxDisjuncts = 16

// verifyPaths verifies a program joining every path first, which is
// cheaper, and only if that finds a problem again with paths kept apart
// (up to maxDisjuncts), whose findings it then reports. Both analyses are
// sound, so the first accepting is enough; and keeping paths apart is the
// more precise, so a program the join rejects gets the verdict and the
// messages it would get with paths kept apart from the start (the join
// stops at its first problem: its messages are not reported). A limit the
// join reaches ends it: keeping paths apart costs more. The time limit
// counts both analyses. With a verbose log or this package's test hooks,
// paths are kept apart from the start (one analysis, one log).
func verifyPaths(prog []isa.Instruction, opts *Options) (*Result, error) {
	a := newAnalyzer(prog, opts)
	if a.paths <= 1 || opts.Verbose != nil || opts.test != nil {
		return a.verify()
	}
	a.paths = 1
	a.firstProblem = true
	res, err := a.verify()
	var ve *VerifierError
	if !errors.As(err, &ve) || ve.limit || ve.Limit != nil {
		return res, err
	}
	b := newAnalyzer(prog, opts)
	b.start = a.start
	b.funcs = a.funcs // CFGs, orders and liveness depend on the program only
	res, err = b.verify()
	if res != nil {
		res.Iterations += a.iters
		res.Processed += int(a.cost())
		res.States += a.states
		res.PeakStateBytes = max(res.PeakStateBytes, a.peak)
	}
	return res, err
}

// losses counts the facts that joining a and b would lose (see the top of
// the file); live says which registers count.
func losses(a, b *state, live liveness) int {
	n := 0
	if a.lock && b.lock && a.lockOf != b.lockOf {
		n++ // different locks held: no unlock can be proven right
	}
	for r := 0; r < 10; r++ {
		if live.regs&(1<<r) != 0 && valueLoss(a, b, locReg(r), a.regs[r], b.regs[r]) {
			n++
		}
	}
	top := len(a.frames) - 1
	dead := func(fi int, sp spill) bool {
		return fi == top && live.stack&slotsOf(int(sp.off), int(sp.size)) == 0
	}
	for fi := range a.frames {
		fa, fb := a.frames[fi], b.frames[fi]
		if fa == fb {
			continue
		}
		for i := range fa.saved {
			if valueLoss(a, b, locSaved(fi, 6+i), fa.saved[i], fb.saved[i]) {
				n++
			}
		}
		i, j := 0, 0
		for i < len(fa.spill) && j < len(fb.spill) {
			sa, sb := fa.spill[i], fb.spill[j]
			switch {
			case sa.off == sb.off && dead(fi, sa) && dead(fi, sb):
				i++
				j++
			case sa.off == sb.off:
				if valueLoss(a, b, locSpill(fi, int(sa.off)), sa.v, sb.v) || sa.size != sb.size && (sa.v.kind.isPointer() || sb.v.kind.isPointer()) {
					n++
				}
				i++
				j++
			case sa.off < sb.off:
				if sa.v.kind.isPointer() && !dead(fi, sa) {
					n++
				}
				i++
			default:
				if sb.v.kind.isPointer() && !dead(fi, sb) {
					n++
				}
				j++
			}
		}
		for ; i < len(fa.spill); i++ {
			if fa.spill[i].v.kind.isPointer() && !dead(fi, fa.spill[i]) {
				n++
			}
		}
		for ; j < len(fb.spill); j++ {
			if fb.spill[j].v.kind.isPointer() && !dead(fi, fb.spill[j]) {
				n++
			}
		}
	}
	return n
}

// valueLoss reports whether joining the values x (of a) and y (of b) at l
// loses a pointer's type, its being non-NULL, a ring buffer record's
// identity, a packet pointer's proven range or a number's sign
// (signLoss).
func valueLoss(a, b *state, l loc, x, y value) bool {
	px, py := x.kind.isPointer(), y.kind.isPointer()
	if !px && !py {
		if (x.kind == kUninit) != (y.kind == kUninit) {
			// Set on one path only: a later use on that path alone is
			// fine, the join is uninitialised (decision 0030).
			return true
		}
		return x.kind == kScalar && y.kind == kScalar && signLoss(a.ivalAt(l, x), b.ivalAt(l, y))
	}
	if x.kind == y.kind {
		switch {
		case x.null != y.null:
			return true
		case x.kind.isRef() && x.id != y.id:
			return true
		case x.kind == kMapValue && x.id != y.id && x.region == y.region && lockedValue(a, x):
			// Values from different lookups: the join cannot tell
			// which element's bpf_spin_lock a later call takes.
			return true
		case x.null && x.id != y.id:
			// Two maybe-NULL pointers from different calls: the join has
			// no id, so a NULL test of one copy (a register reloaded from
			// its spill) no longer tells the others (decision 0030).
			return true
		case x.region != y.region && x.kind != kMapPtr:
			// Values of two maps join into a value of either, as long as
			// the shorter: a field past it on one map is lost.
			return true
		case x.kind == kPacket:
			// Different lengths proven past the pointer: the join keeps
			// the shorter.
			return a.z.ub(l, locPkt) != b.z.ub(l, locPkt)
		case x.kind == kMapValue || x.kind == kStack:
			// Two known offsets into one object: the join knows neither,
			// and what goes with each (a helper's size for a format
			// string chosen on each path: BPF_SEQ_PRINTF with two
			// formats) is lost.
			return constApart(a, b, l)
		}
		return false
	}
	// A pointer and NULL: the join is a pointer that may be NULL, which
	// loses if the pointer was known not to be, or the id that ties it
	// to its copies (joinTypes drops it: a later NULL test of one copy,
	// a register reloaded from its spill, no longer tells the others;
	// a subprogram that stores a lookup's result into its caller's slot
	// on one path and leaves the slot NULL on another).
	if px && isNullConst(y) {
		return !x.null || nullJoinDropsID(x)
	}
	if py && isNullConst(x) {
		return !y.null || nullJoinDropsID(y)
	}
	return true
}

// nullJoinDropsID reports whether joining the maybe-NULL pointer p with
// NULL loses p's id (joinTypes keeps the id of a reference only).
func nullJoinDropsID(p value) bool { return p.id != 0 && !p.kind.isRef() }

// constApart reports whether the number at l is a constant in a and in b,
// different in each.
func constApart(a, b *state, l loc) bool {
	if !a.z.has(l) || !b.z.has(l) {
		return false
	}
	alo, ahi := a.z.bounds(l)
	blo, bhi := b.z.bounds(l)
	return alo == ahi && blo == bhi && alo != blo
}

// lockedValue reports whether the map value v's elements hold a
// bpf_spin_lock (spinlock.go), so that which element it is matters.
func lockedValue(s *state, v value) bool {
	return v.region >= 0 && int(v.region) < len(s.a.maps) && s.a.maps[v.region].HasSpinLock
}

// signLoss reports whether two numbers have opposite signs, as 64-bit or
// as zero-extended 32-bit values: one negative on every run of its path,
// the other not negative on every run of its own. Their join would lose
// the sign that a later `if (ret < 0)` decides (an error code returned on
// one path, a result on the other, each coming with its own pointers).
func signLoss(x, y ival) bool {
	side := func(v ival) int {
		switch {
		case v.smax < 0:
			return -1
		case v.smin >= 0 && v.umax >= s32Half && v.umin >= s32Half && v.umax <= math.MaxUint32:
			return -1 // a negative zero-extended 32-bit value
		case v.smin >= 0 && v.umax < s32Half:
			return 1
		}
		return 0
	}
	sx, sy := side(x), side(y)
	return sx != 0 && sy != 0 && sx != sy
}

func isNullConst(v value) bool { return v.kind == kScalar && v.umax == 0 }

// partition adds st to the disjuncts ds of a block's input: joined into
// the first whose join loses nothing, kept apart while there are fewer
// than k, else joined into the one whose join loses the least.
// own says whether st belongs to the caller (else it is an edge's state,
// which must not change); fresh, parallel to ds, says the same of each
// disjunct.
func partition(ds []*state, fresh []bool, st *state, own bool, live liveness, k int) ([]*state, []bool) {
	best, bestLoss := -1, math.MaxInt
	for i, d := range ds {
		n := losses(d, st, live)
		if n < bestLoss {
			best, bestLoss = i, n
		}
		if n == 0 {
			break
		}
	}
	if best < 0 || (bestLoss > 0 && len(ds) < k) {
		return append(ds, st), append(fresh, own)
	}
	if fresh[best] {
		ds[best] = joinOwned(ds[best], st)
	} else {
		ds[best] = join(ds[best], st, false, nil)
	}
	fresh[best] = true
	return ds, fresh
}

// entryGroups partitions the states entering top-level loop w from
// outside it as a block's input is partitioned; nil if that leaves one
// group (or the loop heads the function, whose entry state enters it).
func (a *analyzer) entryGroups(r *run, w wto) []*state {
	h := w.v
	fn := r.fn
	if h == 0 || a.paths <= 1 {
		return nil
	}
	live := a.liveIn(fn)[h]
	var ds []*state
	var fresh []bool
	for _, p := range fn.blocks[h].preds {
		if fn.inComponent(p, h) || r.out[p] == nil {
			continue
		}
		for i, succ := range fn.blocks[p].succs {
			if succ != h || i >= len(r.out[p]) {
				continue
			}
			for _, st := range r.out[p][i] {
				if st != nil {
					st, own := a.edgeState(r, h, p, st)
					ds, fresh = partition(ds, fresh, st, own, live, a.paths)
				}
			}
		}
	}
	if len(ds) < 2 {
		return nil
	}
	return ds
}

// componentGroups analyses top-level loop w once per group of the states
// entering it (entryGroups): its fixpoint and final pass from that group
// alone. The states leaving the loop are those of every group, kept
// apart. Each analysis is sound for the runs entering with its group,
// and the groups cover every run.
func (a *analyzer) componentGroups(r *run, w wto, groups []*state, check bool) error {
	h := w.v
	fn := r.fn
	var blocks []int
	var collect func(x wto)
	collect = func(x wto) {
		blocks = append(blocks, x.v)
		for _, y := range x.body {
			collect(y)
		}
	}
	collect(w)
	leaving := make(map[int][][]*state)
	if r.entryOf == nil {
		r.entryOf = map[int]*state{}
	}
	defer delete(r.entryOf, h)
	for _, g := range groups {
		// The loop's states from the previous group must not flow in.
		for _, v := range blocks {
			if err := a.setIn(r, v, nil); err != nil {
				return err
			}
			if err := a.setOut(r, v, nil); err != nil {
				return err
			}
		}
		r.entryOf[h] = g
		if err := a.loop(r, w, check); err != nil {
			return err
		}
		for _, v := range blocks {
			outs := r.out[v]
			for i, succ := range fn.blocks[v].succs {
				if i >= len(outs) || fn.inComponent(succ, h) {
					continue
				}
				if leaving[v] == nil {
					leaving[v] = make([][]*state, len(fn.blocks[v].succs))
				}
				leaving[v][i] = append(leaving[v][i], outs[i]...)
			}
		}
	}
	for _, v := range blocks {
		if err := a.setOut(r, v, leaving[v]); err != nil {
			return err
		}
	}
	return nil
}
