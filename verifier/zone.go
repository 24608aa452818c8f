package verifier

import (
	"math"
	"slices"
	"sort"
)

// The relational domain: a zone (difference-bound matrix) over locations.
// Every scalar value and pointer offset the analysis tracks lives in a
// location (a register, a stack spill, a saved register, the packet size, a
// loop counter), and the zone holds upper bounds of x - y for pairs of them.
// Location zero is the constant 0, so x - 0 <= c and 0 - x <= c are plain
// signed bounds. Numbers are mathematical integers; transfer functions only
// record a relation when the machine operation cannot wrap.
//
// Locations are named by where a value is stored, not by an allocator, so
// that two states at a join name the same things the same way. The matrix
// is dense over the locations present and kept closed (every bound is the
// tightest the others imply) except right after widening.

// loc names a location.
type loc uint32

const (
	locZero loc = 0
	locPkt  loc = 1 // packet size: data_end - data
	locMeta loc = 2 // offset of data_meta relative to data (<= 0)
)

func locReg(r int) loc             { return loc(8 + r) }
func locSaved(frame, r int) loc    { return loc(64 + frame*16 + r) }
func locSpill(frame, off int) loc  { return loc(1<<12 + frame<<10 + off + 512) }
func locCounter(frame, pc int) loc { return loc(1<<24 + frame<<20 + pc) }
func isCounterLoc(l loc) bool      { return l >= 1<<24 && l < 1<<30 }
func ghostLoc(l loc) loc           { return 1<<30 | l }
func counterFrame(l loc) int       { return int(l-1<<24) >> 20 }
func isSpillLoc(l loc) bool        { return l >= 1<<12 && l < 1<<24 }
func spillFrame(l loc) int         { return int(l-1<<12) >> 10 }
func isSavedLoc(l loc) bool        { return l >= 64 && l < 64+16*16 }
func savedFrame(l loc) int         { return int(l-64) / 16 }
func regOfLoc(l loc) (int, bool)   { return int(l) - 8, l >= 8 && l < 8+16 }
func spillOffset(l loc) int        { return int(l-1<<12)&1023 - 512 }
func counterPC(l loc) int          { return int(l-1<<24) & (1<<20 - 1) }
func locIsFrameLocal(l loc, f int) bool {
	switch {
	case isSpillLoc(l):
		return spillFrame(l) == f
	case isSavedLoc(l):
		return savedFrame(l) == f
	case isCounterLoc(l):
		return counterFrame(l) == f
	}
	return false
}

// inf is "no bound".
const inf = math.MaxInt64

func addB(a, b int64) int64 {
	if a == inf || b == inf {
		return inf
	}
	s := a + b
	// Overflow: saturate. A bound that overflowed upwards is no bound; one
	// that overflowed downwards is replaced by a weaker (larger) one.
	if (a > 0 && b > 0 && s < 0) || s == inf {
		return inf
	}
	if a < 0 && b < 0 && s >= 0 {
		return math.MinInt64 + 1
	}
	return s
}

func negB(a int64) int64 {
	if a == inf {
		return math.MinInt64 + 1 // only used for lower bounds: -inf
	}
	if a == math.MinInt64 || a == math.MinInt64+1 {
		return inf
	}
	return -a
}

// zone is the difference-bound matrix. The zero value is the zone with
// only location zero.
//
// Operations work in place: a location is inserted or removed by moving
// the rows and columns after it inside the matrix's spare capacity, so
// that the transfer functions, which change a location or two per
// instruction, neither allocate nor copy the whole zone.
type zone struct {
	locs []loc   // sorted; locs[0] == locZero when non-empty
	m    []int64 // m[i*n+j] = upper bound of x_i - x_j
	// open is set when the matrix may not be closed: after narrowing, or
	// after a constraint found it empty. Closed zones get constant-time
	// shortcuts that rely on every bound being the tightest.
	open bool
	// work counts the steps of full closures and relaxations done on this
	// zone since the analysis last charged them (limits.go).
	work int64
}

// zoneSlack is the room a grown matrix keeps for locations added later.
const zoneSlack = 4

func newZone() *zone {
	return &zone{locs: []loc{locZero}, m: []int64{0}}
}

func (z *zone) n() int { return len(z.locs) }

func (z *zone) clone() *zone {
	// append allocates without clearing, and the allocation's size class
	// usually leaves room for a location or two.
	return &zone{locs: append([]loc(nil), z.locs...), m: append([]int64(nil), z.m...), open: z.open}
}

// search returns where l is or would be inserted.
func (z *zone) search(l loc) int {
	lo, hi := 0, len(z.locs)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if z.locs[h] < l {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

func (z *zone) index(l loc) int {
	i := z.search(l)
	if i < len(z.locs) && z.locs[i] == l {
		return i
	}
	return -1
}

func (z *zone) has(l loc) bool { return z.index(l) >= 0 }

// ensure adds l, unconstrained, if missing, and returns its index.
func (z *zone) ensure(l loc) int {
	i := z.search(l)
	if i < len(z.locs) && z.locs[i] == l {
		return i
	}
	n := len(z.locs)
	w := n + 1
	z.locs = append(z.locs, 0)
	copy(z.locs[i+1:], z.locs[i:n])
	z.locs[i] = l
	if cap(z.m) >= w*w {
		z.m = z.m[:w*w]
	} else {
		m := make([]int64, w*w, (w+zoneSlack)*(w+zoneSlack))
		copy(m, z.m)
		z.m = m
	}
	m := z.m
	// Rows move to higher offsets: go from the last down so that no row
	// is overwritten before it moved.
	for a := n - 1; a >= 0; a-- {
		src := a * n
		na := a
		if a >= i {
			na++
		}
		dst := na * w
		copy(m[dst+i+1:dst+w], m[src+i:src+n])
		copy(m[dst:dst+i], m[src:src+i])
	}
	row := m[i*w : i*w+w]
	for b := range row {
		row[b] = inf
	}
	for a := 0; a < w; a++ {
		m[a*w+i] = inf
	}
	m[i*w+i] = 0
	return i
}

// reset makes l present and unconstrained (forget, then ensure) and
// returns its index.
func (z *zone) reset(l loc) int {
	i := z.search(l)
	if i >= len(z.locs) || z.locs[i] != l {
		return z.ensure(l)
	}
	if i == 0 {
		return 0 // location zero is always 0
	}
	n := len(z.locs)
	m := z.m
	row := m[i*n : i*n+n]
	for b := range row {
		row[b] = inf
	}
	for a := 0; a < n; a++ {
		m[a*n+i] = inf
	}
	m[i*n+i] = 0
	return i
}

// forget removes l and every bound that mentions it.
func (z *zone) forget(l loc) {
	i := z.index(l)
	if i <= 0 {
		return
	}
	n := len(z.locs)
	w := n - 1
	m := z.m
	// Rows move to lower offsets: go from the first up.
	for a := 0; a < n; a++ {
		if a == i {
			continue
		}
		na := a
		if a > i {
			na--
		}
		src, dst := a*n, na*w
		copy(m[dst:dst+i], m[src:src+i])
		copy(m[dst+i:dst+w], m[src+i+1:src+n])
	}
	z.m = m[:w*w]
	z.locs = append(z.locs[:i], z.locs[i+1:]...)
}

// forgetWhere removes every location for which drop is true.
func (z *zone) forgetWhere(drop func(loc) bool) {
	var buf [64]int
	keep := buf[:0]
	for i, l := range z.locs {
		if i == 0 || !drop(l) {
			keep = append(keep, i)
		}
	}
	z.keepOnly(keep)
}

// keepOnly keeps the locations at the given sorted indices.
func (z *zone) keepOnly(keep []int) {
	n, k := len(z.locs), len(keep)
	if k == n {
		return
	}
	m := z.m
	// In place: every element moves to a lower or equal offset.
	for a, ia := range keep {
		src, dst := ia*n, a*k
		for b, ib := range keep {
			m[dst+b] = m[src+ib]
		}
	}
	for a, ia := range keep {
		z.locs[a] = z.locs[ia]
	}
	z.locs = z.locs[:k]
	z.m = m[:k*k]
}

// ub returns the upper bound of a - b (inf if unknown or absent).
func (z *zone) ub(a, b loc) int64 {
	if a == b {
		return 0
	}
	i, j := z.index(a), z.index(b)
	if i < 0 || j < 0 {
		return inf
	}
	return z.m[i*len(z.locs)+j]
}

// bounds returns the signed bounds of l (min, max); inf and -inf are
// reported as math.MinInt64 and math.MaxInt64.
func (z *zone) bounds(l loc) (int64, int64) {
	if l == locZero {
		return 0, 0
	}
	i := z.index(l)
	if i < 0 || len(z.locs) == 0 || z.locs[0] != locZero {
		return math.MinInt64, inf
	}
	hi := z.m[i*len(z.locs)]
	lo := z.m[i]
	if lo == inf {
		return math.MinInt64, hi
	}
	return -lo, hi
}

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

// combineOp says how two zones' bounds combine.
type combineOp uint8

const (
	opJoin      combineOp = iota // the larger bound
	opWiden                      // a bound that grew jumps to a threshold
	opNarrow                     // unknown bounds are taken from the other
	opWidenOpen                  // opWiden without thresholds or closure after it
)

// join returns the least upper bound of two closed zones: locations present
// in both, each bound the larger.
func (z *zone) join(o *zone) *zone { return z.combine(o, opJoin, nil, nil) }

// widen returns z widened by o: bounds that grew jump to the next threshold
// or are dropped.
func (z *zone) widen(o *zone, th *thresholds) *zone { return z.combine(o, opWiden, th, nil) }

// narrow returns z narrowed by o: only unknown bounds are taken from o.
func (z *zone) narrow(o *zone) *zone { return z.combine(o, opNarrow, nil, nil) }

// combine builds the zone over the locations both have (less those drop
// names) from each pair of bounds.
func (z *zone) combine(o *zone, op combineOp, th *thresholds, drop func(loc) bool) *zone {
	return z.combineW(o, op, th, drop, nil)
}

// combineW is combine that, when grew is set, also appends the offsets in
// the result's matrix of the bounds larger than both sides' (those a
// widening raised past the other side's bound).
func (z *zone) combineW(o *zone, op combineOp, th *thresholds, drop func(loc) bool, grew *[]int32) *zone {
	var zb, ob [64]int32
	zi, oi := zb[:0], ob[:0]
	for a, b := 0, 0; a < len(z.locs) && b < len(o.locs); {
		switch {
		case z.locs[a] == o.locs[b]:
			if a == 0 || drop == nil || !drop(z.locs[a]) {
				zi = append(zi, int32(a))
				oi = append(oi, int32(b))
			}
			a++
			b++
		case z.locs[a] < o.locs[b]:
			a++
		default:
			b++
		}
	}
	k, zn, on := len(zi), len(z.locs), len(o.locs)
	r := &zone{open: z.open || o.open || op != opJoin}
	if k == zn && k == on {
		// The same locations on both sides (the usual case): combine the
		// matrices element by element, in a copy of z's (append does not
		// clear the memory first).
		r.locs = append([]loc(nil), z.locs...)
		r.m = append([]int64(nil), z.m...)
		m := r.m
		combineSame(m, m, o.m, op, th)
		for a := 0; a < k; a++ {
			m[a*k+a] = 0
		}
		if grew != nil {
			zm, om := z.m[:len(m)], o.m[:len(m)]
			for i, v := range m {
				if v > zm[i] && v > om[i] {
					*grew = append(*grew, int32(i))
				}
			}
		}
		return r
	}
	r.locs, r.m = make([]loc, k, k+1), make([]int64, k*k, (k+1)*(k+1))
	for a, ia := range zi {
		r.locs[a] = z.locs[ia]
	}
	m := r.m
	for a := 0; a < k; a++ {
		zr := z.m[int(zi[a])*zn : int(zi[a])*zn+zn]
		or := o.m[int(oi[a])*on : int(oi[a])*on+on]
		row := m[a*k : a*k+k]
		for b := 0; b < k; b++ {
			if a == b {
				continue
			}
			x, y := zr[zi[b]], or[oi[b]]
			switch op {
			case opJoin:
				x = max(x, y)
			case opWiden, opWidenOpen:
				if y > x {
					x = th.above(y)
				}
			case opNarrow:
				if x == inf {
					x = y
				}
			}
			if grew != nil && x > zr[zi[b]] && x > y {
				*grew = append(*grew, int32(a*k+b))
			}
			row[b] = x
		}
	}
	return r
}

// combineSame combines two matrices over the same locations into m.
func combineSame(m, zm, om []int64, op combineOp, th *thresholds) {
	om = om[:len(zm)]
	m = m[:len(zm)]
	switch op {
	case opJoin:
		for i, x := range zm {
			m[i] = max(x, om[i])
		}
	case opWiden, opWidenOpen:
		for i, x := range zm {
			if y := om[i]; y > x {
				x = th.above(y)
			}
			m[i] = x
		}
	case opNarrow:
		for i, x := range zm {
			if x == inf {
				x = om[i]
			}
			m[i] = x
		}
	}
}

// leq reports whether every bound of z is at most o's (z is contained in o,
// sufficient for inclusion even when o is not closed).
func (z *zone) leq(o *zone) bool {
	zn, on := len(z.locs), len(o.locs)
	var buf [64]int
	oi := buf[:0]
	for b, l := range o.locs {
		ib := z.index(l)
		oi = append(oi, ib)
		if ib < 0 {
			// o constrains a location z does not have: only fine if o has
			// no finite bound on it.
			for x := 0; x < on; x++ {
				if x != b && (o.m[b*on+x] != inf || o.m[x*on+b] != inf) {
					return false
				}
			}
		}
	}
	for a := 0; a < on; a++ {
		row := o.m[a*on : a*on+on]
		ia := oi[a]
		for b, v := range row {
			if a == b || v == inf {
				continue
			}
			ib := oi[b]
			if ia < 0 || ib < 0 {
				return false
			}
			if z.m[ia*zn+ib] > v {
				return false
			}
		}
	}
	return true
}

func (z *zone) equal(o *zone) bool {
	if len(z.locs) != len(o.locs) {
		return false
	}
	for i := range z.locs {
		if z.locs[i] != o.locs[i] {
			return false
		}
	}
	for i := range z.m {
		if z.m[i] != o.m[i] {
			return false
		}
	}
	return true
}

// close recomputes the closure from scratch (Floyd-Warshall); used after
// widening when precision matters more than speed.
func (z *zone) close() bool {
	n := len(z.locs)
	m := z.m
	z.work += int64(n) * int64(n) * int64(n)
	var jbuf, xjbuf [64]int32
	var vbuf, xvbuf [64]int64
	for k := 0; k < n; k++ {
		// Row k's finite entries: only they can shorten a path. Row k
		// changes while k is the intermediate only at i == k, and only
		// if m[k][k] < 0 (the zone is empty); the list is then rebuilt.
		// Entries below fwSmall in magnitude go to js/vs, where adding
		// an ik below it too cannot overflow, so a plain sum equals addB's;
		// the others to xjs/xvs.
		rk := m[k*n : k*n+n]
		js, vs := jbuf[:0], vbuf[:0]
		xjs, xvs := xjbuf[:0], xvbuf[:0]
		for j, v := range rk {
			switch {
			case v == inf:
			case v < fwSmall && v > -fwSmall:
				js, vs = append(js, int32(j)), append(vs, v)
			default:
				xjs, xvs = append(xjs, int32(j)), append(xvs, v)
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
					// Same positions as before, new values (rare: the
					// zone is empty).
					all := append(append([]int32(nil), js...), xjs...)
					js, vs, xjs, xvs = js[:0], vs[:0], xjs[:0], xvs[:0]
					for _, j := range all {
						if v := rk[j]; v < fwSmall && v > -fwSmall {
							js, vs = append(js, j), append(vs, v)
						} else {
							xjs, xvs = append(xjs, j), append(xvs, v)
						}
					}
				}
				continue
			}
			if ik < fwSmall && ik > -fwSmall {
				for q, j := range js {
					if v := ik + vs[q]; v < ri[j] {
						ri[j] = v
					}
				}
			} else {
				for q, j := range js {
					if v := addB(ik, vs[q]); v < ri[j] {
						ri[j] = v
					}
				}
			}
			for q, j := range xjs {
				if v := addB(ik, xvs[q]); v < ri[j] {
					ri[j] = v
				}
			}
		}
	}
	z.open = false
	return z.consistent()
}

// fwSmall bounds the entries close adds without saturation checks.
const fwSmall = 1 << 62

// widenClosed returns z widened by o (opWiden) and closed.
//
// When both are closed, so is their join, and the widened matrix is at
// least the join everywhere: every path in it is at least as long as in
// the join, so closure cannot lower a bound widening kept from the join,
// only those it raised above both sides. relax lowers just those, through
// every intermediate location, to the matrix close would give, in a few
// passes over the raised bounds instead of n^3 steps. Closure of a zone
// that is not closed (narrowed, or empty) is left to close. Huge bounds
// can make the sums of the transfer functions saturate and leave a zone
// slightly less than closed; relax then skips the bounds close would
// rederive from it, which loses precision, never soundness: every bound it
// writes is the (saturated, so no smaller) sum of two of the matrix's.
func (z *zone) widenClosed(o *zone, th *thresholds, drop func(loc) bool) *zone {
	if z.open || o.open {
		r := z.combine(o, opWiden, th, drop)
		r.close()
		return r
	}
	var gbuf [128]int32
	grew := gbuf[:0]
	r := z.combineW(o, opWiden, th, drop, &grew)
	if !r.relax(grew) {
		r.close()
		return r
	}
	r.open = false
	r.consistent()
	return r
}

// relax lowers the bounds at the offsets in grew until each is at most
// every path of two bounds through another location. At that point the
// matrix is closed if it was closed but for those bounds. It reports false
// if the bounds do not settle within 2n passes (only a negative cycle
// could keep them going down); the caller then closes from scratch, which
// is sound since every bound lowered so far is implied by the others.
func (z *zone) relax(grew []int32) bool {
	n := len(z.locs)
	m := z.m
	for round := 0; round <= 2*n; round++ {
		z.work += int64(len(grew)) * int64(n)
		changed := false
		for _, p := range grew {
			i, j := int(p)/n, int(p)%n
			best := m[p]
			ri := m[i*n : i*n+n]
			for k, a := range ri {
				if a == inf || k == i || k == j {
					continue
				}
				if b := m[k*n+j]; b != inf {
					if v := addB(a, b); v < best {
						best = v
					}
				}
			}
			if best < m[p] {
				m[p] = best
				changed = true
			}
		}
		if !changed {
			return true
		}
	}
	return false
}

// thresholds are the widening stops: the program's constants and their
// neighbours, sorted.
type thresholds struct{ v []int64 }

func newThresholds(consts []int64) *thresholds {
	v := make([]int64, 0, 3+6*len(consts))
	v = append(v, 0, 1, -1)
	for _, c := range consts {
		v = append(v, c, c-1, c+1, -c, -c-1, -c+1)
	}
	slices.Sort(v)
	return &thresholds{v: slices.Compact(v)}
}

// above returns the smallest threshold >= b, or inf.
func (t *thresholds) above(b int64) int64 {
	if t == nil {
		return inf
	}
	i := sort.Search(len(t.v), func(i int) bool { return t.v[i] >= b })
	if i < len(t.v) {
		return t.v[i]
	}
	return inf
}

// aboveU and belowU are the unsigned versions, for unsigned interval
// bounds.
func (t *thresholds) aboveU(b uint64) uint64 {
	best := uint64(math.MaxUint64)
	if t != nil {
		for _, c := range t.v {
			if c >= 0 && uint64(c) >= b && uint64(c) < best {
				best = uint64(c)
			}
		}
	}
	return best
}

func (t *thresholds) belowU(b uint64) uint64 {
	best := uint64(0)
	if t != nil {
		for _, c := range t.v {
			if c >= 0 && uint64(c) <= b && uint64(c) > best {
				best = uint64(c)
			}
		}
	}
	return best
}
