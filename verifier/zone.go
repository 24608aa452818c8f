package verifier

import (
	"math"
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
type zone struct {
	locs []loc   // sorted; locs[0] == locZero when non-empty
	m    []int64 // m[i*n+j] = upper bound of x_i - x_j
}

func newZone() *zone {
	return &zone{locs: []loc{locZero}, m: []int64{0}}
}

func (z *zone) n() int { return len(z.locs) }

func (z *zone) clone() *zone {
	return &zone{locs: append([]loc(nil), z.locs...), m: append([]int64(nil), z.m...)}
}

func (z *zone) index(l loc) int {
	i := sort.Search(len(z.locs), func(i int) bool { return z.locs[i] >= l })
	if i < len(z.locs) && z.locs[i] == l {
		return i
	}
	return -1
}

func (z *zone) has(l loc) bool { return z.index(l) >= 0 }

// ensure adds l, unconstrained, if missing, and returns its index.
func (z *zone) ensure(l loc) int {
	i := sort.Search(len(z.locs), func(i int) bool { return z.locs[i] >= l })
	if i < len(z.locs) && z.locs[i] == l {
		return i
	}
	n := len(z.locs)
	locs := make([]loc, n+1)
	copy(locs, z.locs[:i])
	locs[i] = l
	copy(locs[i+1:], z.locs[i:])
	m := make([]int64, (n+1)*(n+1))
	for a := 0; a <= n; a++ {
		for b := 0; b <= n; b++ {
			switch {
			case a == i && b == i:
				m[a*(n+1)+b] = 0
			case a == i || b == i:
				m[a*(n+1)+b] = inf
			default:
				oa, ob := a, b
				if a > i {
					oa--
				}
				if b > i {
					ob--
				}
				m[a*(n+1)+b] = z.m[oa*n+ob]
			}
		}
	}
	z.locs, z.m = locs, m
	return i
}

// forget removes l and every bound that mentions it.
func (z *zone) forget(l loc) {
	i := z.index(l)
	if i <= 0 {
		return
	}
	n := len(z.locs)
	locs := make([]loc, 0, n-1)
	locs = append(locs, z.locs[:i]...)
	locs = append(locs, z.locs[i+1:]...)
	m := make([]int64, (n-1)*(n-1))
	k := 0
	for a := 0; a < n; a++ {
		if a == i {
			continue
		}
		for b := 0; b < n; b++ {
			if b == i {
				continue
			}
			m[k] = z.m[a*n+b]
			k++
		}
	}
	z.locs, z.m = locs, m
}

// forgetWhere removes every location for which drop is true.
func (z *zone) forgetWhere(drop func(loc) bool) {
	keep := make([]int, 0, len(z.locs))
	for i, l := range z.locs {
		if i == 0 || !drop(l) {
			keep = append(keep, i)
		}
	}
	if len(keep) == len(z.locs) {
		return
	}
	n, k := len(z.locs), len(keep)
	locs := make([]loc, k)
	m := make([]int64, k*k)
	for a, ia := range keep {
		locs[a] = z.locs[ia]
		for b, ib := range keep {
			m[a*k+b] = z.m[ia*n+ib]
		}
	}
	z.locs, z.m = locs, m
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
	hi := z.ub(l, locZero)
	lo := z.ub(locZero, l)
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
	i, j := z.ensure(a), z.ensure(b)
	n := len(z.locs)
	if i == j {
		return c >= 0
	}
	if z.m[i*n+j] <= c {
		return true
	}
	if addB(z.m[j*n+i], c) < 0 {
		return false
	}
	z.m[i*n+j] = c
	// Incremental closure: any path x -> a -> b -> y may shorten.
	ia := make([]int64, n) // ub(x - a)
	bj := make([]int64, n) // ub(b - y)
	for x := 0; x < n; x++ {
		ia[x] = z.m[x*n+i]
		bj[x] = z.m[j*n+x]
	}
	for x := 0; x < n; x++ {
		if ia[x] == inf {
			continue
		}
		base := addB(ia[x], c)
		row := z.m[x*n : x*n+n]
		for y := 0; y < n; y++ {
			if bj[y] == inf {
				continue
			}
			if v := addB(base, bj[y]); v < row[y] {
				row[y] = v
			}
		}
	}
	for x := 0; x < n; x++ {
		if z.m[x*n+x] < 0 {
			return false
		}
	}
	return true
}

// setBounds forgets l and gives it the signed range [lo, hi].
func (z *zone) setBounds(l loc, lo, hi int64) {
	z.forget(l)
	z.ensure(l)
	z.addConstraint(l, locZero, hi)
	z.addConstraint(locZero, l, negB(lo))
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
		for x := 0; x < n; x++ {
			if x == i {
				continue
			}
			z.m[i*n+x] = addB(z.m[i*n+x], hi)       // l' - x <= (l - x) + hi
			z.m[x*n+i] = addB(z.m[x*n+i], negB(lo)) // x - l' <= (x - l) - lo
		}
		return
	}
	z.forget(l)
	if z.index(src) < 0 {
		z.ensure(l)
		return
	}
	i := z.ensure(l)
	s := z.index(src)
	n := len(z.locs)
	for x := 0; x < n; x++ {
		if x == i {
			continue
		}
		if x == s {
			z.m[i*n+x] = hi
			z.m[x*n+i] = negB(lo)
			continue
		}
		z.m[i*n+x] = addB(z.m[s*n+x], hi)
		z.m[x*n+i] = addB(z.m[x*n+s], negB(lo))
	}
}

// copyLoc sets l := src exactly.
func (z *zone) copyLoc(l, src loc) { z.assign(l, src, 0, 0) }

// join returns the least upper bound of two closed zones: locations present
// in both, each bound the larger.
func (z *zone) join(o *zone) *zone {
	return z.combine(o, func(a, b int64) int64 { return max(a, b) })
}

// widen returns z widened by o: bounds that grew jump to the next threshold
// or are dropped.
func (z *zone) widen(o *zone, th *thresholds) *zone {
	return z.combine(o, func(a, b int64) int64 {
		if b <= a {
			return a
		}
		return th.above(b)
	})
}

// narrow returns z narrowed by o: only unknown bounds are taken from o.
func (z *zone) narrow(o *zone) *zone {
	return z.combine(o, func(a, b int64) int64 {
		if a == inf {
			return b
		}
		return a
	})
}

func (z *zone) combine(o *zone, f func(a, b int64) int64) *zone {
	// Common locations.
	common := make([]loc, 0, min(len(z.locs), len(o.locs)))
	zi := make([]int, 0, cap(common))
	oi := make([]int, 0, cap(common))
	for a, b := 0, 0; a < len(z.locs) && b < len(o.locs); {
		switch {
		case z.locs[a] == o.locs[b]:
			common = append(common, z.locs[a])
			zi = append(zi, a)
			oi = append(oi, b)
			a++
			b++
		case z.locs[a] < o.locs[b]:
			a++
		default:
			b++
		}
	}
	k, zn, on := len(common), len(z.locs), len(o.locs)
	m := make([]int64, k*k)
	for a := 0; a < k; a++ {
		for b := 0; b < k; b++ {
			if a == b {
				continue
			}
			m[a*k+b] = f(z.m[zi[a]*zn+zi[b]], o.m[oi[a]*on+oi[b]])
		}
	}
	return &zone{locs: common, m: m}
}

// leq reports whether every bound of z is at most o's (z is contained in o,
// sufficient for inclusion even when o is not closed).
func (z *zone) leq(o *zone) bool {
	zn := len(z.locs)
	oi := make([]int, len(o.locs))
	for b, l := range o.locs {
		oi[b] = z.index(l)
		if oi[b] < 0 {
			// o constrains a location z does not have: only fine if o has
			// no finite bound on it.
			on := len(o.locs)
			for x := 0; x < on; x++ {
				if x != b && (o.m[b*on+x] != inf || o.m[x*on+b] != inf) {
					return false
				}
			}
		}
	}
	on := len(o.locs)
	for a := 0; a < on; a++ {
		for b := 0; b < on; b++ {
			if a == b || o.m[a*on+b] == inf {
				continue
			}
			ia, ib := oi[a], oi[b]
			if ia < 0 || ib < 0 {
				return false
			}
			if z.m[ia*zn+ib] > o.m[a*on+b] {
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
	for k := 0; k < n; k++ {
		for i := 0; i < n; i++ {
			ik := z.m[i*n+k]
			if ik == inf {
				continue
			}
			for j := 0; j < n; j++ {
				if v := addB(ik, z.m[k*n+j]); v < z.m[i*n+j] {
					z.m[i*n+j] = v
				}
			}
		}
	}
	for i := 0; i < n; i++ {
		if z.m[i*n+i] < 0 {
			return false
		}
	}
	return true
}

// thresholds are the widening stops: the program's constants and their
// neighbours, sorted.
type thresholds struct{ v []int64 }

func newThresholds(consts []int64) *thresholds {
	set := map[int64]bool{0: true, 1: true, -1: true}
	for _, c := range consts {
		for _, d := range []int64{c, c - 1, c + 1, -c, -c - 1, -c + 1} {
			set[d] = true
		}
	}
	t := &thresholds{}
	for c := range set {
		t.v = append(t.v, c)
	}
	sort.Slice(t.v, func(i, j int) bool { return t.v[i] < t.v[j] })
	return t
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
