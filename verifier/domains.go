package verifier

import "math"

// The abstract state (state.go) is a product of domains, each with its own
// lattice operations of one shape:
//
//	join(x, y)       the least upper bound (or an upper bound);
//	widen(x, y, th)  an upper bound of x and y, x the older, whose bounds
//	                 that grew jump to the thresholds th (nil: to the end);
//	narrow(x, y)     x, a post-fixpoint, improved by y, an iterate below it;
//	leq(x, y)        x is below y (a sufficient check).
//
// The state's join and widening (joinWith), narrowing (narrowState) and
// order (leq) compose them, each in one place, component by component:
//
//   - intervals (interval.go): ival.join, ival.widen, ival.narrow,
//     ival.leq. The transfer functions compute with them; in the state a
//     scalar's unsigned bounds are an interval (widenUnsigned,
//     narrowUnsigned) and its signed bounds live in the zone;
//   - values (types.go, here): each location's type with, for scalars,
//     the unsigned interval: joinValue (join, or widen with widen set),
//     narrowValue (applied to the registers only: spilled and saved
//     scalars keep their join's unsigned bounds, as they always have),
//     leqValue;
//   - stack frames (stack.go, state.go): which bytes are initialised and
//     which may hold a pointer, and the spilled and saved values, which
//     are locations of the value domain: joinFrame (joinFrameShape and
//     joinValue for each value; widening and narrowing a frame are its
//     join, the values' bounds being in the zone), leqFrame;
//   - the zone (zone*.go): the relations between locations, over the
//     locations the value domain keeps: zone.join, zone.widen,
//     zone.narrow, zone.leq (zone.lattice joins or widens dropping
//     locations, zoneCovered is the order the state uses);
//   - resources: the ring buffer records held (joinRefs, leqRefs) and the
//     spin lock (joinLockOwners in spinlock.go, leqLock); they are finite,
//     so their widening and narrowing are their join.
//
// Each operation takes the older state (or the larger, for narrowing) as
// its first operand, the way the zone's combine does. The orders of the
// values and frames are those of their joins (leqValue says why).

// uival is the interval of a scalar's unsigned bounds (its signed bounds
// live in the zone).
func uival(x value) ival { return ival{math.MinInt64, math.MaxInt64, x.umin, x.umax} }

// widenUnsigned widens the unsigned bounds of v, the join of the scalars
// x (older) and y, to the thresholds: a bound that grew jumps to the next
// threshold (ival.widen).
func widenUnsigned(v, x, y value, th *thresholds) value {
	w := uival(x).widen(uival(y), th)
	v.umin, v.umax = w.umin, w.umax
	return v
}

// narrowUnsigned narrows the unsigned bounds of r, the join of the scalars
// a (a post-fixpoint) and b (an iterate below it): only the bounds a has
// none of are taken from b (ival.narrow).
func narrowUnsigned(r, a, b value) value {
	n := uival(a).narrow(uival(b))
	r.umin, r.umax = n.umin, n.umax
	return r
}

// narrowValue narrows the value x of a post-fixpoint with y, the value of
// an iterate below it at the same location, given j, their join: the
// unsigned bounds of a scalar (narrowUnsigned); the rest is j's.
func narrowValue(j, x, y value) value {
	if j.kind == kScalar && x.kind == kScalar && y.kind == kScalar {
		return narrowUnsigned(j, x, y)
	}
	return j
}

// leqValue reports whether the value x is below y at a location, where jv
// joins two values there (state.valueJoiner, with y's state first): y is
// what joining x to it gives back. The order is the join's rather than
// one written out case by case because joining also merges map regions
// (mapjoin.go), an effect the analysis must see the same whether states
// are joined or compared, and because what a join keeps (ids, origins,
// known bits, a number only where both zones have it) is what decides
// that nothing new was learnt; a separate order would be stricter or
// looser on some of those and change which loop heads settle.
func leqValue(jv func(l loc, x, y value) value, l loc, x, y value) bool {
	return jv(l, y, x) == y
}

// leqFrame reports whether frame fi of a state whose zone is za (fa) is
// below that of one whose zone is zb (fb): for the reasons of leqValue it
// is fb's join with fa giving fb back (shape, saved registers and spills,
// each value by jv, built as state.valueJoiner(b, a) builds it).
func leqFrame(fi int, fa, fb *frame, za, zb *zone, jv func(l loc, x, y value) value) bool {
	f, _ := joinFrame(fi, fb, fa, zb, za, jv, func(loc) {})
	return f.equal(fb)
}

// leqRefs reports whether every record held in a is held in b (the order
// of joinRefs, which is the union).
func leqRefs(a, b *state) bool {
	for _, id := range a.refs {
		if !b.hasRef(id) {
			return false
		}
	}
	return true
}

// leqLock reports whether the lock of a is below that of b: a lock held
// in a is held in b, and b's owner is what joining a's to it gives
// (joinLockOwners: one owner joined with another, or with no lock, is
// lockUnknown).
func leqLock(a, b *state) bool {
	return (!a.lock || b.lock) && joinLockOwners(b, a) == b.lockOf
}

// joinFrameShape joins the shape of two frames of the same function: a
// byte is initialised if it is on both sides and may hold a pointer if it
// may on either. The result has no spills and no saved registers: those
// are values, joined location by location.
func joinFrameShape(fa, fb *frame) *frame {
	return &frame{init: fa.init.and(fb.init), ptr: fa.ptr.or(fb.ptr), fn: fa.fn, used: min(fa.used, fb.used)}
}

// joinRefs returns the records held on either side, sorted.
func joinRefs(a, b *state) []int32 {
	r := state{refs: append([]int32(nil), a.refs...)}
	for _, id := range b.refs {
		r.addRef(id)
	}
	return r.refs
}

// joinValue joins the values x and y (zeroX and zeroY say whether each is
// the scalar 0); with widen, x is the older value and a scalar's unsigned
// bounds that grew are widened. keep is false when the result cannot keep
// a number (joinTypes).
func joinValue(x, y value, zeroX, zeroY bool, merge func(k kind, x, y int32) int32, widen bool, th *thresholds) (v value, keep bool) {
	v, keep = joinTypes(x, y, zeroX, zeroY, merge)
	if keep && v.kind == kScalar && widen {
		v = widenUnsigned(v, x, y, th)
	}
	return v, keep
}
