package verifier

import "math"

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
	old := z.m
	if cap(old) >= w*w {
		z.m = old[:w*w]
	} else {
		// The rows move straight from the old matrix into the new one.
		z.m = make([]int64, w*w, (w+zoneSlack)*(w+zoneSlack))
	}
	m := z.m
	// Rows move to higher offsets: go from the last down so that, in
	// place, no row is overwritten before it moved.
	for a := n - 1; a >= 0; a-- {
		src := a * n
		na := a
		if a >= i {
			na++
		}
		dst := na * w
		copy(m[dst+i+1:dst+w], old[src+i:src+n])
		copy(m[dst:dst+i], old[src:src+i])
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

// forgetRange removes every location in [lo, hi] and every bound that
// mentions them: forget of each, in one pass over the matrix.
func (z *zone) forgetRange(lo, hi loc) {
	if lo == locZero {
		lo++ // location zero stays
	}
	p, q := z.search(lo), z.search(hi+1)
	if p >= q {
		return
	}
	n := len(z.locs)
	d := q - p
	w := n - d
	m := z.m
	// Rows move to lower offsets: go from the first up.
	for a := 0; a < n; a++ {
		if a >= p && a < q {
			continue
		}
		na := a
		if a >= q {
			na -= d
		}
		src, dst := a*n, na*w
		copy(m[dst:dst+p], m[src:src+p])
		copy(m[dst+p:dst+w], m[src+q:src+n])
	}
	z.m = m[:w*w]
	z.locs = append(z.locs[:p], z.locs[q:]...)
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
