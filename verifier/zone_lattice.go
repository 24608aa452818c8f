package verifier

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

// lattice applies op to z (the older zone) and o over the locations both
// have, less those drop names. A widening is closed again so that bounds
// implied through relations (off <= pkt_size + c, pkt_size <= 65535) are
// read back; the widened relations themselves stay stable, so iteration
// still ends.
func (z *zone) lattice(o *zone, op combineOp, th *thresholds, drop func(loc) bool) *zone {
	if op == opWiden {
		return z.widenClosed(o, th, drop)
	}
	return z.combine(o, op, th, drop)
}
