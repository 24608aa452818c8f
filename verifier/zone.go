package verifier

import "math"

// The relational domain: a zone (difference-bound matrix) over locations.
// Every scalar value and pointer offset the analysis tracks lives in a
// location (a register, a stack spill, a saved register, the packet size, a
// loop counter), and the zone holds upper bounds of x - y for pairs of them.
// Location zero is the constant 0, so x - 0 <= c and 0 - x <= c are plain
// signed bounds. Numbers are mathematical integers; transfer functions only
// record a relation when the machine operation cannot wrap.

// addConstraint adds a - b <= c and restores closure. It reports false if
// the zone became empty.
func (z *zone) addConstraint(a, b loc, c int64) bool {
	if c == inf {
		return true
	}
	z.ensure(a)
	j := z.ensure(b)
	i := z.index(a) // adding b may have moved a
	if i == j {
		return c >= 0
	}
	n := len(z.locs)
	if z.m[i*n+j] <= c {
		return true
	}
	if addB(z.m[j*n+i], c) < 0 {
		return false
	}
	z.m[i*n+j] = c
	z.closeEdge(i, j, c)
	return z.consistent()
}

// closeEdge restores closure after the bound of x_i - x_j was lowered to
// c: any path x -> i -> j -> y may have become shorter.
func (z *zone) closeEdge(i, j int, c int64) {
	n := len(z.locs)
	m := z.m
	var xbuf, ybuf [64]int32
	var xv, yv [64]int64
	xs, ys := xbuf[:0], ybuf[:0]
	xb, yb := xv[:0], yv[:0]
	ySmall := true // every ub(j - y) below fwSmall in magnitude
	for x := 0; x < n; x++ {
		if v := m[x*n+i]; v != inf { // ub(x - i)
			xs, xb = append(xs, int32(x)), append(xb, v)
		}
		if v := m[j*n+x]; v != inf { // ub(j - y)
			ys, yb = append(ys, int32(x)), append(yb, v)
			ySmall = ySmall && v < fwSmall && v > -fwSmall
		}
	}
	for k, x := range xs {
		base := addB(xb[k], c)
		row := m[int(x)*n : int(x)*n+n]
		if ySmall && base < fwSmall && base > -fwSmall {
			// No sum can overflow: the same as addB.
			for q, y := range ys {
				if v := base + yb[q]; v < row[y] {
					row[y] = v
				}
			}
			continue
		}
		for q, y := range ys {
			if v := addB(base, yb[q]); v < row[y] {
				row[y] = v
			}
		}
	}
}

// consistent checks the diagonal; an empty zone is marked open.
func (z *zone) consistent() bool {
	n := len(z.locs)
	for x := 0; x < n; x++ {
		if z.m[x*n+x] < 0 {
			z.open = true
			return false
		}
	}
	return true
}

// smallBound bounds the numbers the constant-time shortcuts add up, so
// that no sum of a few of them saturates.
const smallBound = 1 << 60

func isSmall(v int64) bool { return v == inf || (v < smallBound && v > -smallBound) }

// setBounds forgets l and gives it the signed range [lo, hi].
func (z *zone) setBounds(l loc, lo, hi int64) {
	if l == locZero {
		return
	}
	i := z.reset(l)
	n := len(z.locs)
	m := z.m
	if hi != inf {
		// l - 0 <= hi: l's row is hi plus zero's row (l's column is
		// empty, so no other path uses the new bound).
		m[i*n] = hi
		zero := m[:n]
		row := m[i*n : i*n+n]
		for y, v := range zero {
			if v == inf || y == i {
				continue
			}
			if s := addB(hi, v); s < row[y] {
				row[y] = s
			}
		}
		z.consistent() // marks an empty zone open; the caller gets no answer
	}
	c := negB(lo)
	if c == inf {
		return
	}
	if addB(m[i*n], c) < 0 {
		return // empty: keep the upper bound only
	}
	fast := !z.open && isSmall(hi) && isSmall(c)
	for x := 0; fast && x < n; x++ {
		fast = isSmall(m[x]) && isSmall(m[x*n])
	}
	if !fast {
		m[i] = c
		z.closeEdge(0, i, c)
		z.consistent()
		return
	}
	// 0 - l <= c: l's column is zero's column plus c. Paths x -> 0 -> l ->
	// y are no shorter than x -> 0 -> y, which closure already has.
	for x := 0; x < n; x++ {
		if x == i {
			continue
		}
		if v := m[x*n]; v != inf {
			m[x*n+i] = addB(v, c)
		}
	}
}

// meetBounds tightens l's range to [lo, hi]; false if empty.
func (z *zone) meetBounds(l loc, lo, hi int64) bool {
	if !z.addConstraint(l, locZero, hi) {
		return false
	}
	if lo != math.MinInt64 {
		return z.addConstraint(locZero, l, negB(lo))
	}
	return true
}

// assign sets l := src + [lo, hi] where src is a location. The result keeps
// every relation src had, widened by the interval; it is closed if z was.
func (z *zone) assign(l, src loc, lo, hi int64) {
	if l == src {
		// l := l + k: shift l's row and column.
		i := z.index(l)
		if i < 0 {
			return
		}
		n := len(z.locs)
		nlo := negB(lo)
		for x := 0; x < n; x++ {
			if x == i {
				continue
			}
			z.m[i*n+x] = addB(z.m[i*n+x], hi)  // l' - x <= (l - x) + hi
			z.m[x*n+i] = addB(z.m[x*n+i], nlo) // x - l' <= (x - l) - lo
		}
		return
	}
	if z.index(src) < 0 {
		z.forget(l)
		z.ensure(l)
		return
	}
	i := z.reset(l)
	s := z.index(src)
	n := len(z.locs)
	m := z.m
	nlo := negB(lo)
	for x := 0; x < n; x++ {
		if x == i {
			continue
		}
		if x == s {
			m[i*n+x] = hi
			m[x*n+i] = nlo
			continue
		}
		m[i*n+x] = addB(m[s*n+x], hi)
		m[x*n+i] = addB(m[x*n+s], nlo)
	}
}

// copyLoc sets l := src exactly.
func (z *zone) copyLoc(l, src loc) { z.assign(l, src, 0, 0) }
