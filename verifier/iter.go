package verifier

import (
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// Open-coded number iterators (docs/decisions/0037-open-coded-iterators.md):
// struct bpf_iter_num, 8 bytes on the stack, made by bpf_iter_num_new,
// stepped by bpf_iter_num_next and released by bpf_iter_num_destroy, with
// Linux's rules:
//
//   - the iterator is a spill of kind kIter at a constant, 8-byte aligned
//     stack offset; its bytes are marked initialised pointer bytes, and no
//     load, store or helper may touch them while it lives, so the program
//     cannot read or forge its state;
//   - new needs a slot that holds no live iterator; the iterator is a
//     reference (state.refs, its id that of the new call), released by
//     destroy only: an exit, tail call or callback return with it held is
//     refused (Linux: "Unreleased reference");
//   - next and destroy need a live iterator; next returns NULL or a
//     pointer to the iterator's int (kIterCur), read-only, 4 bytes;
//   - the iterator's null flag says it may be drained (a next returned
//     NULL); its region is the id of the last next call's result, so that
//     checking that result against NULL tells whether it is drained;
//   - a loop whose every trip calls next on one iterator, made outside the
//     loop, and which comes back only when that next returned a value, ends
//     (iterBounded): each such trip consumes one of the iterator's at most
//     linux.IterNumMaxLoops values. Other loops are proven as before.

// iterSlot is the stack slot of an iterator argument.
type iterSlot struct {
	fi  int // frame index
	off int // offset from the frame's r10, a multiple of 8
}

// iterArg checks an iterator argument in register r: a pointer to the
// stack at a constant 8-byte aligned offset with room for 8 bytes; live
// says the slot must hold a live iterator (next, destroy), else none.
func (e *exec) iterArg(s *state, pc, r int, k *platform.KfuncProto, live bool) (iterSlot, bool) {
	v := s.regs[r]
	iv := s.ival(r)
	switch {
	case v.kind != kStack || v.null:
		e.fail(pc, "%s needs a pointer to a struct bpf_iter_num on the stack in r%d; %s", k.Name, r, e.describe(s, r))
		return iterSlot{}, false
	case int(v.region) >= len(s.frames):
		e.fail(pc, "r%d points into a stack frame that no longer exists", r)
		return iterSlot{}, false
	case !iv.isConst():
		e.fail(pc, "%s: the iterator in r%d must be at a constant stack offset, not r10%s", k.Name, r, stackOff(iv.smin, iv.smax, 0))
		return iterSlot{}, false
	case iv.smin < -frameSize || iv.smin+8 > 0 || iv.smin%8 != 0:
		e.fail(pc, "%s: the iterator in r%d at r10%+d must be 8 bytes inside the stack frame, 8-byte aligned", k.Name, r, iv.smin)
		return iterSlot{}, false
	}
	sl := iterSlot{fi: int(v.region), off: int(iv.smin)}
	f := s.frames[sl.fi]
	e.a.frameUse(f.fn, sl.off)
	i := f.find(sl.off)
	held := i >= 0 && f.spill[i].v.kind == kIter && f.spill[i].size == 8
	if live {
		if !held {
			e.fail(pc, "%s needs an iterator made by bpf_iter_num_new at r10%+d (r%d), and none lives there on every path (never made, or destroyed)", k.Name, sl.off, r)
			return sl, false
		}
		if id := f.spill[i].v.id; id == 0 || !s.hasRef(id) {
			e.fail(pc, "%s: the iterator at r10%+d (r%d) is one of several made on different paths: which one it is, and whether it was destroyed, is unknown", k.Name, sl.off, r)
			return sl, false
		}
		return sl, true
	}
	for _, j := range f.overlapping(sl.off, 8) {
		if f.spill[j].v.kind == kIter {
			e.fail(pc, "%s on r10%+d (r%d), where the iterator made at %s still lives: destroy it first", k.Name, sl.off, r, e.a.where(int(f.spill[j].v.origin)))
			return sl, false
		}
	}
	return sl, true
}

// iterAt returns the live iterator's spill at sl (iterArg checked it).
func iterAt(s *state, sl iterSlot) *spill {
	f := s.frameW(sl.fi)
	return &f.spill[f.find(sl.off)]
}

// iterNew makes the iterator at sl: a new reference, not drained.
func (e *exec) iterNew(s *state, pc int, sl iterSlot) {
	id := callValueID(pc, s.depth())
	if s.hasRef(id) {
		e.fail(pc, "bpf_iter_num_new makes an iterator while the one it made before is still live: destroy it first")
		return
	}
	f := s.frameW(sl.fi)
	idx := f.overlapping(sl.off, 8)
	for _, i := range idx {
		s.z.forget(locSpill(sl.fi, int(f.spill[i].off)))
	}
	f.remove(idx)
	f.insert(spill{off: int16(sl.off), size: 8, v: value{kind: kIter, id: id, origin: int32(pc)}})
	bs := sl.off + frameSize
	f.init.setRange(bs, bs+8, true)
	f.ptr.setRange(bs, bs+8, true)
	s.addRef(id)
}

// iterNext steps the iterator at sl: it may now be drained.
func (e *exec) iterNext(s *state, pc int, sl iterSlot) {
	sp := iterAt(s, sl)
	sp.v.null = true
	sp.v.region = callValueID(pc, s.depth())
	e.a.noteIterNext(e.r, pc, sp.v.id)
}

// iterNextResult sets r0 to next's result: NULL or the iterator's int.
func (e *exec) iterNextResult(s *state, pc int, sl iterSlot) {
	iter := s.frames[sl.fi].spill[s.frames[sl.fi].find(sl.off)].v
	idv := callValueID(pc, s.depth())
	// Older results of this call lose their link to the new one.
	s.eachValue(func(l loc, x *value) {
		if x.kind == kIterCur && x.id == idv {
			x.id = 0
		}
	})
	s.set(0, value{kind: kIterCur, region: iter.id, id: idv, null: true, origin: int32(pc)}, topIval)
}

// iterDestroy releases the iterator at sl: its bytes are unwritten stack
// again (the run time zeroes them). Pointers to its int may still be
// compared with NULL, as in Linux, but no longer read: the slot may hold
// anything next, spilled pointers too.
func (e *exec) iterDestroy(s *state, pc int, sl iterSlot) {
	f := s.frameW(sl.fi)
	i := f.find(sl.off)
	id := f.spill[i].v.id
	f.remove([]int{i})
	bs := sl.off + frameSize
	f.init.setRange(bs, bs+8, false)
	f.ptr.setRange(bs, bs+8, false)
	s.dropRef(id)
	s.eachValue(func(l loc, v *value) {
		if v.kind == kIterCur && v.region == id {
			*v = value{kind: kOpaque, null: v.null, id: v.id, origin: v.origin}
		}
	})
}

// iterDecided records on the iterator whose int r0-like value v points to
// that its last next returned NULL (drained) or a value.
func iterDecided(s *state, v value, isNull bool) {
	if v.kind != kIterCur || v.id == 0 {
		return
	}
	for fi, f := range s.frames {
		for i := range f.spill {
			if sp := f.spill[i]; sp.v.kind == kIter && sp.v.id == v.region && sp.v.region == v.id {
				s.frameW(fi).spill[i].v.null = isNull
				return
			}
		}
	}
}

// joinIters joins two values of one live iterator slot: the same
// iterator, or else one of two that cannot be used (its reference stays
// held on the paths that made it, and is reported where the program ends).
func joinIters(a, b value) value {
	if a.id != b.id {
		return value{kind: kInvalid, region: invJoinedIters, origin: max(a.origin, b.origin)}
	}
	r := a
	r.null = a.null || b.null
	if a.region != b.region {
		r.region = 0 // which next's result tells is unknown
		r.null = true
	}
	r.origin = min(a.origin, b.origin)
	return r
}

// iterTouched reports a load, store or helper access of [start, end) in
// frame f that overlaps a live iterator.
func (e *exec) iterTouched(f *frame, pc, start, end int, what string) bool {
	for _, i := range f.overlapping(start, end-start) {
		if sp := f.spill[i]; sp.v.kind == kIter {
			e.fail(pc, "%s of r10%+d..r10%+d touches the iterator made at %s, which lives at r10%+d: only the bpf_iter_num kfuncs may use it until bpf_iter_num_destroy", what, start, end, e.a.where(int(sp.v.origin)), sp.off)
			return true
		}
	}
	return false
}

// iterValueAccess checks a load or store through next's result (not
// NULL): reads within its 4 bytes, no writes.
func (e *exec) iterValueAccess(s *state, m access) (value, ival, loc) {
	e.a.ctxUse[m.pc] |= 2
	switch {
	case m.write || m.atomic:
		e.fail(m.pc, "%s through r%d, the value bpf_iter_num_next returned: it is read-only", m.verb(), m.base)
	case m.off < 0 || m.off+m.size > 4:
		e.fail(m.pc, "read of %s at offset %d through r%d, the int bpf_iter_num_next returned: outside its 4 bytes", plural(m.size), m.off, m.base)
	}
	return value{kind: kScalar}, loadResult(m.size, m.sx), 0
}

// noteIterNext records that the next call at pc stepped iterator id in
// run r (-1: different iterators on different paths).
func (a *analyzer) noteIterNext(r *run, pc int, id int32) {
	if a.iterNexts == nil {
		a.iterNexts = map[*run]map[int]int32{}
	}
	m := a.iterNexts[r]
	if m == nil {
		m = map[int]int32{}
		a.iterNexts[r] = m
	}
	if old, ok := m[pc]; ok && old != id {
		id = -1
	}
	m[pc] = id
}

// iterBounded reports whether loop w of run r ends because of an
// iterator: some iterator X, made outside the loop, is stepped by next on
// every path around the loop, and every edge back to the head leaves X
// not drained (the last next returned a value). Each trip then consumes
// one of X's values, of which there are finitely many.
func (a *analyzer) iterBounded(r *run, w wto) bool {
	fn, h := r.fn, w.v
	// The iterators next steps inside the loop, and the blocks that step
	// each.
	steps := map[int32]map[int]bool{}
	for v, b := range fn.blocks {
		if !fn.inComponent(v, h) {
			continue
		}
		for pc := b.start; pc < b.end; pc++ {
			id, ok := a.iterNexts[r][pc]
			if !ok || id <= 0 {
				continue
			}
			if steps[id] == nil {
				steps[id] = map[int]bool{}
			}
			steps[id][v] = true
		}
	}
	for id, blocks := range steps {
		// An iterator made by a function fn calls (deeper than fn's frame)
		// may be made afresh, under the same id, by a call in the loop
		// after a destroy: it bounds nothing.
		if a.iterMadeIn(fn, h, id) || iterDepth(id) > r.depth || !a.everyTripSteps(fn, h, blocks) {
			continue
		}
		if a.backEdgesLive(r, h, id) {
			return true
		}
	}
	return false
}

// iterMadeIn reports whether the new call that made iterator id lies in
// the loop headed by h (a loop that makes its iterator afresh each trip is
// not bounded by it).
func (a *analyzer) iterMadeIn(fn *function, h int, id int32) bool {
	pc := int(id-1) & (1<<22 - 1)
	for v, b := range fn.blocks {
		if pc >= b.start && pc < b.end {
			return fn.inComponent(v, h)
		}
	}
	return false
}

// iterDepth is the depth of the frame whose new call made iterator id.
func iterDepth(id int32) int { return int(id-1) >> 22 }

// everyTripSteps reports whether every path from the head h around its
// loop back to h passes one of the blocks in steps.
func (a *analyzer) everyTripSteps(fn *function, h int, steps map[int]bool) bool {
	if steps[h] {
		return true
	}
	seen := map[int]bool{h: true}
	work := []int{h}
	for len(work) > 0 {
		v := work[len(work)-1]
		work = work[:len(work)-1]
		for _, s := range fn.blocks[v].succs {
			if s == h {
				return false // back at the head without a step
			}
			if seen[s] || steps[s] || !fn.inComponent(s, h) {
				continue
			}
			seen[s] = true
			work = append(work, s)
		}
	}
	return true
}

// backEdgesLive reports whether every state on an edge back to h holds
// iterator id not drained.
func (a *analyzer) backEdgesLive(r *run, h int, id int32) bool {
	fn := r.fn
	for _, p := range fn.blocks[h].preds {
		if !fn.inComponent(p, h) || p >= len(r.out) || r.out[p] == nil {
			continue
		}
		for i, succ := range fn.blocks[p].succs {
			if succ != h || i >= len(r.out[p]) {
				continue
			}
			for _, st := range r.out[p][i] {
				if st != nil && !iterLive(st, id) {
					return false
				}
			}
		}
	}
	return true
}

// iterLive reports whether st holds iterator id, not drained.
func iterLive(st *state, id int32) bool {
	for _, f := range st.frames {
		for _, sp := range f.spill {
			if sp.v.kind == kIter && sp.v.id == id {
				return !sp.v.null
			}
		}
	}
	return false
}

// refIsIter reports whether the reference id was made by bpf_iter_num_new.
func (e *exec) refIsIter(id int32) bool {
	pc := int(id-1) & (1<<22 - 1)
	if pc < 0 || pc >= len(e.a.prog) {
		return false
	}
	ins := e.a.prog[pc]
	return ins.Opcode == isa.OpCall && ins.Src == isa.CallKfunc
}

// iterRefDesc names the iterator reference id for messages.
func (e *exec) iterRefDesc(id int32) string {
	pc := int(id-1) & (1<<22 - 1)
	return fmt.Sprintf("the iterator %s made at %s", e.kfuncName(pc), e.a.where(pc))
}
