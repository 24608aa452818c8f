package verifier

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refZone is a plain model of the zone: a map of bounds, rebuilt and
// closed the obvious way. The in-place zone must agree with it bound for
// bound.
type refZone struct {
	locs []loc
	m    map[[2]loc]int64 // missing: inf (the diagonal is 0)
}

func newRefZone() *refZone { return &refZone{locs: []loc{locZero}, m: map[[2]loc]int64{}} }

func (r *refZone) has(l loc) bool { return slices.Contains(r.locs, l) }

func (r *refZone) get(a, b loc) int64 {
	if a == b {
		if v, ok := r.m[[2]loc{a, a}]; ok {
			return v
		}
		return 0
	}
	if v, ok := r.m[[2]loc{a, b}]; ok {
		return v
	}
	return inf
}

func (r *refZone) put(a, b loc, v int64) {
	if v == inf {
		delete(r.m, [2]loc{a, b})
		return
	}
	r.m[[2]loc{a, b}] = v
}

func (r *refZone) ensure(l loc) {
	if !r.has(l) {
		r.locs = append(r.locs, l)
		slices.Sort(r.locs)
	}
}

func (r *refZone) forget(l loc) {
	if l == locZero || !r.has(l) {
		return
	}
	r.locs = slices.DeleteFunc(r.locs, func(x loc) bool { return x == l })
	for k := range r.m {
		if k[0] == l || k[1] == l {
			delete(r.m, k)
		}
	}
}

// addConstraint: a - b <= c, then the incremental closure through the new
// edge, as in the zone.
func (r *refZone) addConstraint(a, b loc, c int64) bool {
	if c == inf {
		return true
	}
	r.ensure(a)
	r.ensure(b)
	if a == b {
		return c >= 0
	}
	if r.get(a, b) <= c {
		return true
	}
	if addB(r.get(b, a), c) < 0 {
		return false
	}
	r.put(a, b, c)
	xa := map[loc]int64{}
	by := map[loc]int64{}
	for _, x := range r.locs {
		xa[x], by[x] = r.get(x, a), r.get(b, x)
	}
	for _, x := range r.locs {
		if xa[x] == inf {
			continue
		}
		base := addB(xa[x], c)
		for _, y := range r.locs {
			if by[y] == inf {
				continue
			}
			if v := addB(base, by[y]); v < r.get(x, y) {
				r.put(x, y, v)
			}
		}
	}
	for _, x := range r.locs {
		if r.get(x, x) < 0 {
			return false
		}
	}
	return true
}

func (r *refZone) setBounds(l loc, lo, hi int64) {
	r.forget(l)
	r.ensure(l)
	r.addConstraint(l, locZero, hi)
	r.addConstraint(locZero, l, negB(lo))
}

func (r *refZone) assign(l, src loc, lo, hi int64) {
	if l == src {
		if !r.has(l) {
			return
		}
		for _, x := range r.locs {
			if x != l {
				r.put(l, x, addB(r.get(l, x), hi))
				r.put(x, l, addB(r.get(x, l), negB(lo)))
			}
		}
		return
	}
	r.forget(l)
	r.ensure(l)
	if !r.has(src) {
		return
	}
	for _, x := range r.locs {
		switch x {
		case l:
		case src:
			r.put(l, x, hi)
			r.put(x, l, negB(lo))
		default:
			r.put(l, x, addB(r.get(src, x), hi))
			r.put(x, l, addB(r.get(x, src), negB(lo)))
		}
	}
}

func (r *refZone) clone() *refZone {
	c := &refZone{locs: slices.Clone(r.locs), m: map[[2]loc]int64{}}
	for k, v := range r.m {
		c.m[k] = v
	}
	return c
}

// narrow keeps the common locations, each bound r's if it has one, else
// o's.
func (r *refZone) narrow(o *refZone) *refZone {
	c := newRefZone()
	for _, l := range r.locs {
		if l != locZero && o.has(l) {
			c.locs = append(c.locs, l)
		}
	}
	for _, a := range c.locs {
		for _, b := range c.locs {
			if a == b {
				continue
			}
			v := r.get(a, b)
			if v == inf {
				v = o.get(a, b)
			}
			c.put(a, b, v)
		}
	}
	return c
}

func (r *refZone) close() {
	for _, k := range r.locs {
		for _, i := range r.locs {
			ik := r.get(i, k)
			if ik == inf {
				continue
			}
			for _, j := range r.locs {
				if v := addB(ik, r.get(k, j)); v < r.get(i, j) {
					r.put(i, j, v)
				}
			}
		}
	}
}

// sameZone reports whether z and r hold the same bounds, and logs the
// first difference.
func sameZone(t *testing.T, z *zone, r *refZone) bool {
	t.Helper()
	if !slices.Equal(z.locs, r.locs) {
		t.Errorf("locations %v, want %v", z.locs, r.locs)
		return false
	}
	n := len(z.locs)
	if len(z.m) != n*n {
		t.Errorf("matrix has %d entries for %d locations", len(z.m), n)
		return false
	}
	for i, a := range z.locs {
		for j, b := range z.locs {
			if got, want := z.m[i*n+j], r.get(a, b); got != want {
				t.Errorf("ub(%s - %s) = %d, want %d", locName(a), locName(b), got, want)
				return false
			}
		}
	}
	return true
}

// TestZoneModel applies random operation sequences to the zone and the
// model. Bounds are drawn small, around the thresholds of 64-bit
// saturation, and at the extremes, so that the constant-time shortcuts
// and the saturating arithmetic are both exercised.
func TestZoneModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := []loc{locPkt, locMeta, locReg(0), locReg(1), locReg(5), locReg(10), locSaved(0, 6), locSpill(0, -8), locSpill(1, -16), locCounter(0, 7), ghostLoc(locReg(1))}
	num := func() int64 {
		switch rng.IntN(6) {
		case 0:
			return int64(rng.IntN(2001)) - 1000
		case 1:
			return int64(rng.Uint64()>>1) * int64(1-2*rng.IntN(2))
		case 2:
			return []int64{math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 1, inf, 0, smallBound, -smallBound}[rng.IntN(7)]
		}
		return int64(rng.IntN(41)) - 20
	}
	rounds := 3000
	if testing.Short() {
		rounds = 300
	}
	for round := 0; round < rounds; round++ {
		z, r := newZone(), newRefZone()
		for step := 0; step < 40; step++ {
			l, m := pool[rng.IntN(len(pool))], pool[rng.IntN(len(pool))]
			a, b := num(), num()
			lo, hi := min(a, b), max(a, b)
			if rng.IntN(8) == 0 {
				lo, hi = hi, lo // sometimes empty
			}
			var op string
			switch rng.IntN(8) {
			case 7:
				// Narrowing leaves the zone open (not closed), which the
				// shortcuts must notice.
				op = "narrow"
				z2, r2 := z.clone(), r.clone()
				for i := 0; i < 3; i++ {
					l := pool[rng.IntN(len(pool))]
					a, b := num(), num()
					z2.setBounds(l, min(a, b), max(a, b))
					r2.setBounds(l, min(a, b), max(a, b))
				}
				z, r = z.narrow(z2), r.narrow(r2)
			case 0:
				op = "setBounds"
				z.setBounds(l, lo, hi)
				r.setBounds(l, lo, hi)
			case 1:
				op = "addConstraint"
				c := num()
				if g, w := z.addConstraint(l, m, c), r.addConstraint(l, m, c); g != w {
					t.Fatalf("round %d step %d: addConstraint = %v, want %v", round, step, g, w)
				}
			case 2:
				op = "forget"
				z.forget(l)
				r.forget(l)
			case 3:
				op = "assign"
				k := int64(rng.IntN(9)) - 4
				if rng.IntN(2) == 0 {
					z.assign(l, l, k, k)
					r.assign(l, l, k, k)
				} else {
					w := int64(rng.IntN(3))
					z.assign(l, m, k, k+w)
					r.assign(l, m, k, k+w)
				}
			case 4:
				op = "ensure"
				z.ensure(l)
				r.ensure(l)
			case 5:
				op = "close"
				z.close()
				r.close()
			case 6:
				op = "clone"
				z = z.clone()
			}
			if !sameZone(t, z, r) {
				t.Fatalf("round %d step %d: after %s", round, step, op)
			}
		}
	}
}

// TestZoneKeepOnly checks removing several locations at once against
// removing them one by one.
func TestZoneKeepOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 200; round++ {
		z := newZone()
		for i := 0; i < 12; i++ {
			l := loc(8 + rng.IntN(16))
			z.setBounds(l, -int64(rng.IntN(100)), int64(rng.IntN(100)))
			z.addConstraint(l, loc(8+rng.IntN(16)), int64(rng.IntN(50)))
		}
		drop := map[loc]bool{}
		for _, l := range z.locs[1:] {
			if rng.IntN(2) == 0 {
				drop[l] = true
			}
		}
		want := z.clone()
		for l := range drop {
			want.forget(l)
		}
		z.forgetWhere(func(l loc) bool { return drop[l] })
		if !z.equal(want) {
			t.Fatalf("round %d: forgetWhere %v gives %v / %v, want %v / %v", round, drop, z.locs, z.m, want.locs, want.m)
		}
	}
}

// TestZoneCombineSame checks the element-wise path of combine against the
// general one (a location dropped on one side forces it).
func TestZoneCombineSame(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	th := newThresholds([]int64{3, 10, 100})
	for round := 0; round < 200; round++ {
		mk := func() *zone {
			z := newZone()
			for _, l := range []loc{8, 9, 10, 11} {
				z.setBounds(l, -int64(rng.IntN(200)), int64(rng.IntN(200)))
			}
			z.addConstraint(8, 9, int64(rng.IntN(100)))
			return z
		}
		a, b := mk(), mk()
		for _, op := range []combineOp{opJoin, opWiden, opNarrow, opWidenOpen} {
			got := a.combine(b, op, th, nil)
			// The general path: add a location to b only, which combine
			// leaves out.
			b2 := b.clone()
			b2.ensure(locSpill(0, -8))
			want := a.combine(b2, op, th, nil)
			if !got.equal(want) {
				t.Fatalf("round %d op %d: %v, want %v", round, op, got.m, want.m)
			}
		}
	}
}

// TestZoneWidenClosed: on closed zones with small bounds, widening with
// the incremental closure gives exactly what widening and closing from
// scratch gives, with the same locations on both sides or not, and with a
// location dropped.
func TestZoneWidenClosed(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	th := newThresholds([]int64{3, 10, 100, 1000})
	locs := []loc{8, 9, 10, 11, 12, locSpill(0, -8), locCounter(0, 5)}
	mk := func() *zone {
		z := newZone()
		for _, l := range locs {
			if rng.IntN(4) > 0 {
				lo := -int64(rng.IntN(300))
				z.setBounds(l, lo, lo+int64(rng.IntN(600)))
			}
		}
		for n := rng.IntN(8); n > 0; n-- {
			a, b := locs[rng.IntN(len(locs))], locs[rng.IntN(len(locs))]
			if z.has(a) && z.has(b) {
				z.addConstraint(a, b, int64(rng.IntN(200))-50)
			}
		}
		return z
	}
	checked := 0
	for round := 0; round < 3000; round++ {
		a, b := mk(), mk()
		if a.open || b.open {
			continue // empty
		}
		var drop func(loc) bool
		if rng.IntN(3) == 0 {
			d := locs[rng.IntN(len(locs))]
			drop = func(l loc) bool { return l == d }
		}
		want := a.combine(b, opWiden, th, drop)
		want.close()
		got := a.widenClosed(b, th, drop)
		if !got.equal(want) || got.open != want.open {
			t.Fatalf("round %d: widenClosed %v / %v, want %v / %v", round, got.locs, got.m, want.locs, want.m)
		}
		checked++
	}
	if checked < 1000 {
		t.Fatalf("only %d rounds checked", checked)
	}
}

// closeRef is close without the unchecked sums: every sum through addB.
func closeRef(z *zone) {
	n := len(z.locs)
	m := z.m
	for k := 0; k < n; k++ {
		rk := m[k*n : k*n+n]
		var js []int
		var vs []int64
		for j, v := range rk {
			if v != inf {
				js, vs = append(js, j), append(vs, v)
			}
		}
		for i := 0; i < n; i++ {
			ik := m[i*n+k]
			if ik == inf {
				continue
			}
			ri := m[i*n : i*n+n]
			if i == k {
				for j, kj := range rk {
					if v := addB(ik, kj); v < ri[j] {
						ri[j] = v
					}
				}
				if ik < 0 {
					for q, j := range js {
						vs[q] = rk[j]
					}
				}
				continue
			}
			for q, j := range js {
				if v := addB(ik, vs[q]); v < ri[j] {
					ri[j] = v
				}
			}
		}
	}
	z.open = false
	z.consistent()
}

// TestZoneCloseSaturates: close's unchecked sums give the same matrix as
// addB everywhere, on matrices with bounds near the limits (which must
// saturate) as well as small ones.
func TestZoneCloseSaturates(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	vals := []int64{inf, inf, 0, 1, -1, 100, -100, 1 << 61, -(1 << 61), 1<<62 - 1, -(1<<62 - 1), 1 << 62, -(1 << 62),
		math.MaxInt64 - 1, math.MinInt64 + 1, math.MaxInt64 / 2, math.MinInt64 / 2}
	for round := 0; round < 2000; round++ {
		z := newZone()
		n := 2 + rng.IntN(7)
		for l := 1; l < n; l++ {
			z.ensure(loc(7 + l))
		}
		for i := range z.m {
			if i%(n+1) != 0 {
				z.m[i] = vals[rng.IntN(len(vals))]
			}
		}
		want := z.clone()
		closeRef(want)
		got := z.clone()
		got.close()
		if !got.equal(want) || got.open != want.open {
			t.Fatalf("round %d: close of %v gives %v, want %v", round, z.m, got.m, want.m)
		}
	}
}
