package verifier

import (
	"math"
	"slices"
	"sort"
)

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
