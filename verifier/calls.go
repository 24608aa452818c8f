package verifier

import (
	"fmt"
	"slices"

	"github.com/bpfhost/bpfhost/platform"
)

// BPF-to-BPF calls, callbacks and exits. A call pushes a frame, saves the
// caller's r6-r9 (in locations the callee cannot touch, so their relations
// survive), analyses the callee from the call's state and pops the frame
// from the join of the callee's exit states.

// maxCallbackRounds bounds the rounds of a callback's fixpoint (joining
// the callback's effect into the state before the helper). Widening ends
// it long before; reaching it rejects the program (ErrLimit).
const maxCallbackRounds = widenDelay + 2*widenRounds + 64

// maxExactLoopCalls is the largest bpf_loop count whose calls are followed
// one by one, without widening (callback).
const maxExactLoopCalls = 32

// callbackInfo says how a callback's exit is checked.
type callbackInfo struct {
	proto *platform.HelperProto
	ret   platform.Range
	// refs and lock are what the helper's caller held: anything else held
	// at the callback's exit was acquired by the callback.
	refs []int32
	lock bool
}

// push makes the callee's entry state from the caller's state.
func (e *exec) push(s *state, target int) *state {
	return e.pushOwned(s.clone(), target)
}

// pushOwned is push on a state the caller gives up, without a copy.
func (e *exec) pushOwned(cs *state, target int) *state {
	depth := cs.depth()
	top := cs.frameW(depth)
	for r := 6; r <= 9; r++ {
		top.saved[r-6] = cs.regs[r]
		if cs.regs[r].kind.hasOffset() {
			cs.z.copyLoc(locSaved(depth, r), locReg(r))
		}
		cs.setUninit(r)
	}
	cs.setUninit(0)
	cs.forgetAllSub32()
	cs.frames = append(cs.frames, &frame{fn: target})
	cs.own |= 1 << (depth + 1)
	cs.set(10, value{kind: kStack, region: int32(depth + 1)}, constIval(0))
	return cs
}

// pop returns to the caller from the callee's exit state.
func (e *exec) pop(x *state, pc int) *state {
	s := e.a.takeExit(x)
	d := s.depth()
	s.frames = s.frames[:d]
	s.own &= 1<<d - 1
	// Values pointing into the dead frame are dead.
	s.invalidate(func(v value) bool { return v.kind == kStack && int(v.region) >= d }, invDeadFrame, pc)
	s.z.forgetWhere(func(l loc) bool { return locIsFrameLocal(l, d) })
	s.forgetAllSub32()
	top := s.frameW(d - 1)
	for r := 6; r <= 9; r++ {
		s.regs[r] = top.saved[r-6]
		if s.regs[r].kind.hasOffset() {
			s.z.copyLoc(locReg(r), locSaved(d-1, r))
		} else {
			s.z.forget(locReg(r))
		}
		s.z.forget(locSaved(d-1, r))
		top.saved[r-6] = value{}
	}
	for r := 1; r <= 5; r++ {
		s.setUninit(r)
	}
	s.set(10, value{kind: kStack, region: int32(d - 1)}, constIval(0))
	return s
}

// enter checks the depth and recursion limits of a call to target.
func (e *exec) enter(s *state, pc, target int) bool {
	if s.depth()+1 >= MaxCallFrames {
		e.fail(pc, "call nesting exceeds %d frames", MaxCallFrames)
		return false
	}
	for _, f := range e.a.active {
		if f == target {
			e.fail(pc, "recursive call of the function at insn %d", target)
			return false
		}
	}
	caller := s.top().fn
	if e.a.calls[caller] == nil {
		e.a.calls[caller] = map[int]bool{}
	}
	e.a.calls[caller][target] = true
	return true
}

// localCall analyses a BPF-to-BPF call.
func (e *exec) localCall(s *state, pc, target int) (*state, error) {
	if !e.enter(s, pc, target) {
		e.clobberCall(s)
		s.set(0, value{kind: kScalar}, topIval)
		return s, nil
	}
	// s is the calling block's own state, used no more once the call
	// is made.
	exit, err := e.a.analyze(target, e.pushOwned(s, target), e.check, callLocal, nil)
	exits := e.a.callExits
	e.a.callExits = nil
	if err != nil || exit == nil {
		return nil, err
	}
	if len(exits) > 1 {
		// The returns kept apart: each continues on its own.
		for _, x := range exits[1:] {
			e.extra = append(e.extra, e.pop(x, pc))
		}
		return e.pop(exits[0], pc), nil
	}
	return e.pop(exit, pc), nil
}

// callback analyses a helper's callback, called any number of times from
// 0 to the helper's bound: the state after the helper is the fixpoint of
// joining the callback's effect into the state before it.
func (e *exec) callback(s *state, pc int, proto *platform.HelperProto, target int, arg value, argLoc loc, argIv ival, mapID int32, count ival) (*state, error) {
	name := proto.Name
	if !e.enter(s, pc, target) {
		return s, nil
	}
	info := &callbackInfo{proto: proto, ret: platform.Range{Min: 0, Max: 1}, refs: append([]int32(nil), s.refs...), lock: s.lock}
	var mi *MapInfo
	if mapID >= 0 {
		mi = e.a.maps[mapID]
	}
	switch proto.Callback {
	case platform.CallbackLoop:
		// A count above BPF_MAX_LOOPS (1 << 23) is Linux's -E2BIG at run
		// time, without a call (helpers.loop does the same): the callback
		// runs at most 1 << 23 times whatever the count, which is how the
		// analysis below bounds it.
	case platform.CallbackForEachMapElem, platform.CallbackTimer:
		if mi == nil {
			// The helper's map argument was refused (the program is);
			// a callback is never left unverified otherwise.
			return s, nil
		}
		if proto.Callback == platform.CallbackTimer {
			info.ret = platform.Range{Min: 0, Max: 0}
		}
	default:
		e.fail(pc, "%s: callbacks of kind %s are not supported", name, proto.Callback)
		return s, nil
	}
	e.a.inCB++
	defer func() { e.a.inCB-- }()
	fn := e.a.function(target)
	cur := s
	for k := 0; ; k++ {
		cs := e.push(cur, target)
		for r := 1; r <= 5; r++ {
			cs.setUninit(r)
		}
		switch proto.Callback {
		case platform.CallbackLoop:
			hi := count.umax
			if hi > 1<<23 {
				hi = 1 << 23
			}
			if hi > 0 {
				hi--
			}
			cs.set(1, value{kind: kScalar}, urange(0, hi))
			e.setArg(cs, 2, arg, argLoc, argIv, cur)
		case platform.CallbackForEachMapElem, platform.CallbackTimer:
			cs.set(1, value{kind: kMapPtr, region: mapID}, topIval)
			// The key: a read-only view of key_size bytes.
			key := &MapInfo{Name: mi.Name + " key", ValueSize: mi.KeySize, ReadOnlyProg: true}
			cs.set(2, value{kind: kMapValue, region: e.a.mapID(key)}, constIval(0))
			cs.set(3, value{kind: kMapValue, region: mapID}, constIval(0))
			if proto.Callback == platform.CallbackForEachMapElem {
				e.setArg(cs, 4, arg, argLoc, argIv, cur)
			}
		}
		exit, err := e.a.analyze(target, cs, false, callCallback, info)
		if err != nil {
			return nil, err
		}
		if exit == nil {
			break
		}
		next := e.pop(exit, pc)
		// Registers r0-r5 are the helper's business; keep the caller's for
		// the join so that it converges.
		for r := 0; r <= 5; r++ {
			next.regs[r] = cur.regs[r]
			if cur.regs[r].kind.hasOffset() && cur.z.has(locReg(r)) {
				next.z.forget(locReg(r))
				lo, hi := cur.z.bounds(locReg(r))
				next.z.setBounds(locReg(r), lo, hi)
			} else {
				next.z.forget(locReg(r))
			}
		}
		if proto.Callback == platform.CallbackLoop && count.umax <= maxExactLoopCalls {
			// At most count calls: after round k the join covers 0 to
			// k+1 calls, so count rounds cover them all, without
			// widening (verifier_iterating_callbacks.c's
			// bpf_loop_iter_limit_ok: one call of i++ leaves i in [0, 1]).
			j := join(cur, next, false, nil)
			done := uint64(k+1) >= count.umax || j.equal(cur)
			cur = j
			if done {
				break
			}
			continue
		}
		// Widen as loop heads do (analyzer.component): thresholds for a
		// few rounds, then none, then without closing, which guarantees an
		// end. The state after the helper must be a fixpoint: a round
		// limit reached rejects the program, never accepts a partial state.
		var j *state
		switch {
		case k < widenDelay:
			j = join(cur, next, false, nil)
		case k < widenDelay+widenRounds:
			j = join(cur, next, true, fn.thresholds())
		case k < widenDelay+2*widenRounds:
			j = join(cur, next, true, nil)
		default:
			j = joinWith(cur, next, opWidenOpen, nil, true)
		}
		if j.equal(cur) {
			break
		}
		if k >= maxCallbackRounds {
			e.a.limit = fmt.Errorf("%w: %s: the %s callback's effect on the caller's state did not settle after %d rounds",
				ErrLimit, e.a.where(pc), name, maxCallbackRounds)
			return nil, errStop
		}
		cur = j
	}
	if e.check {
		// Report the callback's problems from the final state.
		cs := e.push(cur, target)
		for r := 1; r <= 5; r++ {
			cs.setUninit(r)
		}
		switch proto.Callback {
		case platform.CallbackLoop:
			hi := min(count.umax, 1<<23)
			if hi > 0 {
				hi--
			}
			cs.set(1, value{kind: kScalar}, urange(0, hi))
			e.setArg(cs, 2, arg, argLoc, argIv, cur)
		default:
			cs.set(1, value{kind: kMapPtr, region: mapID}, topIval)
			key := &MapInfo{Name: mi.Name + " key", ValueSize: mi.KeySize, ReadOnlyProg: true}
			cs.set(2, value{kind: kMapValue, region: e.a.mapID(key)}, constIval(0))
			cs.set(3, value{kind: kMapValue, region: mapID}, constIval(0))
			if proto.Callback == platform.CallbackForEachMapElem {
				e.setArg(cs, 4, arg, argLoc, argIv, cur)
			}
		}
		if _, err := e.a.analyze(target, cs, true, callCallback, info); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// setArg gives a callback's register r the helper's context argument.
func (e *exec) setArg(cs *state, r int, arg value, argLoc loc, iv ival, caller *state) {
	if arg.kind == kUninit {
		cs.set(r, value{kind: kScalar}, constIval(0))
		return
	}
	cs.set(r, arg, iv)
}

// exit checks an exit instruction and records the state it leaves with.
func (e *exec) exit(s *state, pc int) {
	r := e.r
	hooks := e.a.opts.test
	switch {
	case r.kind == callCallback:
		if e.scalar(s, pc, 0, "a callback must return a number") {
			iv := s.ival(0)
			ret := r.cb.ret
			if iv.smin < ret.Min || iv.smax > ret.Max {
				e.fail(pc, "r0 may be %s: %s callbacks must return a value in %s", iv, r.cb.proto.Name, ret)
			}
		}
		// What a callback acquires it releases before it returns (Linux
		// too): the helper may call it again, or never.
		for _, id := range s.refs {
			if !slices.Contains(r.cb.refs, id) {
				e.fail(pc, "%s is still held when the %s callback returns", e.refDesc(id), r.cb.proto.Name)
			}
		}
		if s.lock && !r.cb.lock {
			e.fail(pc, "the %s callback returns while holding a bpf_spin_lock", r.cb.proto.Name)
		}
	case r.kind == callLocal:
		// A function that returns nothing (void) leaves r0 unset: Linux
		// hands it back as it is, and the caller may not read it.
		if s.regs[0].kind != kUninit && e.readable(s, pc, 0) {
			if v := s.regs[0]; v.kind == kStack && int(v.region) == s.depth() {
				e.fail(pc, "r0 points into the returning function's own stack")
			}
		}
		for _, sp := range s.top().spill {
			if sp.v.kind == kIter {
				e.fail(pc, "the function returns while %s lives in its stack at r10%+d: destroy it first", e.refDesc(sp.v.id), sp.off)
			}
		}
	case hooks != nil && (hooks.noExitChecks || hooks.synthetic[pc]):
	default:
		if s.regs[0].kind == kUninit {
			e.fail(pc, "r0 is uninitialised at exit: the program must return a number")
		} else if v := s.regs[0]; v.kind != kScalar {
			if v.kind.isPointer() {
				e.fail(pc, "r0 is a pointer (%s): the program must return a number", v)
			} else {
				e.fail(pc, "%s at exit: the program must return a number", e.describe(s, 0))
			}
		} else if ret := e.a.opts.Type.Return; ret != nil {
			iv := s.ival(0)
			if iv.smin < ret.Min || iv.smax > ret.Max {
				e.fail(pc, "r0 may be %s at exit: %s programs must return a value in %s", iv, e.a.opts.Type, ret)
			}
		}
		for _, id := range s.refs {
			e.fail(pc, "%s", e.unreleased(id))
		}
		if s.lock {
			e.fail(pc, "exit while a bpf_spin_lock is held")
		}
	}
	e.addExit(s)
}
