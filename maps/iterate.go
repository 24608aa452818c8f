package maps

import (
	"errors"
	"fmt"
)

// ErrIterationAborted is returned by Iterator.Err when a map changed so
// much during iteration that NextKey kept starting over.
var ErrIterationAborted = errors.New("iteration aborted")

// Iterator walks the keys and values of a keyed map with NextKey and
// Lookup, as bpftool's map dump does. Keys deleted while iterating are
// skipped; since NextKey starts over after a deleted key, a key may be
// visited twice when the map changes concurrently.
type Iterator struct {
	m         Map
	key, next []byte
	started   bool
	steps     uint64
	err       error
}

// Iterate returns an iterator over m.
func Iterate(m Map) *Iterator {
	ks := m.Spec().KeySize
	return &Iterator{m: m, key: make([]byte, ks), next: make([]byte, ks)}
}

// Next copies the next key and value into keyOut and valueOut (sized as
// for Lookup) and reports whether there was one. After false, Err says
// whether the end was reached or an error stopped the walk.
func (it *Iterator) Next(keyOut, valueOut []byte) bool {
	if it.err != nil {
		return false
	}
	limit := 2*uint64(it.m.Spec().MaxEntries) + 16
	for {
		if it.steps++; it.steps > limit {
			it.err = fmt.Errorf("map %q: %w after %d steps", it.m.Spec().Name, ErrIterationAborted, limit)
			return false
		}
		var prev []byte
		if it.started {
			prev = it.key
		}
		err := it.m.NextKey(prev, it.next)
		if errors.Is(err, ErrKeyNotExist) {
			return false
		}
		if err != nil {
			it.err = err
			return false
		}
		it.started = true
		it.key, it.next = it.next, it.key
		err = it.m.Lookup(it.key, valueOut)
		if errors.Is(err, ErrKeyNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			it.err = err
			return false
		}
		copy(keyOut, it.key)
		return true
	}
}

// Err returns the error that ended the iteration, nil at the end of the map.
func (it *Iterator) Err() error { return it.err }
