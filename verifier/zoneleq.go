package verifier

// zoneCovered reports whether every state zone z allows, zone o allows
// too (a sufficient check). It is z.leq(o), which compares bound by bound,
// and, where one of o's bounds on x - y is tighter than z's, accepts it
// when z's own bounds on x and y imply it: arithmetic that saturates near
// ±2^63 can leave two zones with different bounds that no state tells
// apart, and a loop head must not look unsettled for that.
func zoneCovered(z, o *zone) bool {
	if z.leq(o) {
		return true
	}
	zn, on := len(z.locs), len(o.locs)
	if zn == 0 || on == 0 {
		return false
	}
	for a := 0; a < on; a++ {
		for b := 0; b < on; b++ {
			v := o.m[a*on+b]
			if a == b || v == inf {
				continue
			}
			ia, ib := z.index(o.locs[a]), z.index(o.locs[b])
			if ia < 0 || ib < 0 {
				return false
			}
			if z.m[ia*zn+ib] <= v {
				continue
			}
			// x - y <= ub(x) - lb(y) (locs[0] is the location zero).
			if !sumAtMost(z.m[ia*zn], z.m[ib], v) {
				return false
			}
		}
	}
	return true
}

// sumAtMost reports whether x + y <= v, computed without overflow; inf is
// no bound.
func sumAtMost(x, y, v int64) bool {
	if x == inf || y == inf {
		return false
	}
	s := x + y
	switch {
	case x > 0 && y > 0 && s < 0:
		return false // above every int64
	case x < 0 && y < 0 && s >= 0:
		return true // below every int64
	}
	return s <= v
}
