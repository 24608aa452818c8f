package verifier

import "math"

// The abstract state (state.go) is a product of domains, each with its own
// lattice operations. The state's join, widening, narrowing and order
// (joinWith, narrowState, leq) apply them component by component:
//
//   - values (types.go, interval.go): each location's type (joinTypes)
//     and, for scalars, its unsigned bounds (joinValue, widenUnsigned,
//     narrowUnsigned); the signed bounds and offsets live in the zone;
//   - stack shape (stack.go): which bytes are initialised and which may
//     hold a pointer (joinFrameShape, joinFrame in state.go); spilled and
//     saved values are locations of the value domain;
//   - the zone (zone*.go): the relations between locations
//     (zone.lattice), over the locations the value domain keeps;
//   - resources: the ring buffer records held (joinRefs) and the spin
//     lock (joinLockOwners, spinlock.go).
//
// Each operation takes the older state (or the larger, for narrowing) as
// its first operand, the way the zone's combine does.

// widenUnsigned widens the unsigned bounds of v, the join of the scalars
// x (older) and y, to the thresholds: a bound that grew jumps to the next
// threshold.
func widenUnsigned(v, x, y value, th *thresholds) value {
	if y.umax > x.umax {
		v.umax = th.aboveU(y.umax)
	}
	if y.umin < x.umin {
		v.umin = th.belowU(y.umin)
	}
	return v
}

// narrowUnsigned narrows the unsigned bounds of r, the join of the scalars
// a (a post-fixpoint) and b (an iterate below it): only the bounds a has
// none of are taken from b.
func narrowUnsigned(r, a, b value) value {
	if a.umax == math.MaxUint64 {
		r.umax = b.umax
	}
	if a.umin == 0 {
		r.umin = b.umin
	}
	return r
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
