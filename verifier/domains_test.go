package verifier

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// randIval returns a non-empty interval, signed or unsigned, small or
// spanning the ends of the range.
func randIval(rng *rand.Rand) ival {
	pick := func() uint64 {
		switch rng.IntN(4) {
		case 0:
			return uint64(rng.IntN(200))
		case 1:
			return uint64(-int64(rng.IntN(200)))
		case 2:
			return rng.Uint64()
		}
		return []uint64{0, math.MaxInt64, 1 << 63, math.MaxUint64}[rng.IntN(4)]
	}
	a, b := pick(), pick()
	switch rng.IntN(3) {
	case 0:
		return constIval(a)
	case 1:
		return urange(min(a, b), max(a, b))
	}
	return srange(min(int64(a), int64(b)), max(int64(a), int64(b)))
}

func TestIvalLattice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	th := newThresholds([]int64{100, 7, -40})
	for range 5000 {
		x, y := randIval(rng), randIval(rng)
		if x.empty() || y.empty() {
			t.Fatalf("generator gave an empty interval: %v %v", x, y)
		}
		if !x.leq(x) {
			t.Fatalf("%v not below itself", x)
		}
		j := x.join(y)
		if !x.leq(j) || !y.leq(j) {
			t.Fatalf("join %v of %v and %v is not above both", j, x, y)
		}
		for _, th := range []*thresholds{nil, th} {
			if w := x.widen(y, th); !j.leq(w) {
				t.Fatalf("widen %v of %v by %v is below the join %v", w, x, y, j)
			}
		}
		if y.leq(x) {
			if n := x.narrow(y); !y.leq(n) || !n.leq(x) {
				t.Fatalf("narrow %v of %v with %v is not between them", n, x, y)
			}
		}
	}
}

func TestIvalWidenNarrow(t *testing.T) {
	th := newThresholds([]int64{100})
	cases := []struct {
		name   string
		got    ival
		want   ival
		signed bool
	}{
		{"signed bounds jump to thresholds", srange(0, 5).widen(srange(-3, 50), th), ival{smin: -99, smax: 99}, true},
		{"signed bounds jump to the ends", srange(0, 5).widen(srange(-3, 50), nil), ival{smin: math.MinInt64, smax: math.MaxInt64}, true},
		{"stable signed bounds stay", srange(-5, 5).widen(srange(-3, 5), th), ival{smin: -5, smax: 5}, true},
		{"unsigned bounds jump to thresholds", urange(10, 20).widen(urange(5, 60), th), ival{umin: 1, umax: 99}, false},
		{"unsigned bound above every threshold", urange(10, 20).widen(urange(10, 200), th), ival{umin: 10, umax: math.MaxUint64}, false},
		{"narrow takes only missing bounds", ival{math.MinInt64, 99, 0, math.MaxUint64}.narrow(ival{0, 50, 0, 50}), ival{0, 99, 0, 50}, true},
	}
	for _, c := range cases {
		got := c.got
		if c.signed && (got.smin != c.want.smin || got.smax != c.want.smax) ||
			!c.signed && (got.umin != c.want.umin || got.umax != c.want.umax) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
	if n := (ival{math.MinInt64, 99, 0, math.MaxUint64}).narrow(ival{0, 50, 0, 50}); n.umin != 0 || n.umax != 50 {
		t.Errorf("narrow: unsigned bounds %d..%d, want 0..50", n.umin, n.umax)
	}
}

// TestLeqRefs checks the refs' own order against the order of their join:
// a is below b exactly when joining a to b gives b back.
func TestLeqRefs(t *testing.T) {
	sets := [][]int32{nil, {1}, {2}, {1, 2}, {1, 3}, {1, 2, 3}}
	for _, ra := range sets {
		for _, rb := range sets {
			a, b := &state{refs: ra}, &state{refs: rb}
			want := slices.Equal(joinRefs(b, a), b.refs)
			if got := leqRefs(a, b); got != want {
				t.Errorf("leqRefs(%v, %v) = %v, the join says %v", ra, rb, got, want)
			}
		}
	}
}

// leqByJoin is the order the state had before each domain had its own:
// the values, frames, refs and lock by their join, the zone by its order.
func leqByJoin(a, b *state) bool {
	return joinWith(b, a, opJoin, nil, false).equalTypes(b) && zoneCovered(a.z, b.z)
}

// TestLeqComposed checks, on the states of every loop head check of the
// committed objects, that the state's order composed of the domains'
// orders is the order of the joins it replaced.
func TestLeqComposed(t *testing.T) {
	var below, notBelow int
	var where string
	check := func(a, b *state) {
		got, want := leq(a, b), leqByJoin(a, b)
		if got != want {
			t.Errorf("%s: leq = %v, by the join %v:\n  %s\n  %s", where, got, want, a, b)
		}
		if got {
			below++
		} else {
			notBelow++
		}
	}
	// Each pair the analysis compares, the other way round, and the
	// state it compared before (in the same analysis, at the same depth).
	var prev *state
	hooks := &testHooks{sink: -1, compared: func(a, b *state) {
		check(a, b)
		check(b, a)
		if prev != nil && prev.a == a.a && len(prev.frames) == len(a.frames) {
			check(prev, a)
			check(a, prev)
		}
		prev = a
	}}
	eachObjectProgram(t, func(path string, p *object.ProgramSpec, opts Options) {
		where, opts.test = path+"/"+p.Name, hooks
		Verify(p.Instructions, opts) // the verdict is other tests' business
	})
	// Generated programs with loops, as TestSoundness makes them.
	g := progen.New(rand.New(rand.NewPCG(2, 7)), progen.Options{MaxLen: 64, Jumps: true, Loops: true, MaxIterations: 16})
	for i := range 300 {
		where = fmt.Sprintf("generated program %d", i)
		Verify(g.Program(), Options{Type: xdpInfo(t), ABI: linux.ABI(), MaxIterations: 20000, test: hooks})
	}
	t.Logf("%d states below, %d not", below, notBelow)
	if below == 0 || notBelow == 0 {
		t.Errorf("the objects gave %d states below and %d not: both outcomes must be compared", below, notBelow)
	}
}
