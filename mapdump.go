package bpfhost

import (
	"encoding/binary"

	"github.com/bpfhost/bpfhost/maps"
)

// MapDumpStats counts the entries of a map that Map.Dump did not pass on.
type MapDumpStats struct {
	// Zero is how many array entries were left out because their value
	// is all zero bytes (in every slot).
	Zero uint64
	// More is how many entries were past the limit.
	More uint64
}

// Dump calls fn for the entries of m that a listing shows, in iteration
// order, at most limit of them (0: no limit), and returns what it left out.
// Nothing is built for the entries it leaves out: zero array values are
// recognised in place and entries past limit are only counted, so memory
// stays bounded by limit and time by the map's size.
//
// fn gets the key and the value as Lookup gives them (per-CPU values are
// every slot's value, each padded to 8 bytes), or the error of that
// lookup. Program arrays and maps of maps show their used slots. Ring
// buffers show their records, with nil keys, and are drained: records past
// limit are consumed and counted. Queues, stacks, Bloom filters and perf
// event arrays have no keys to walk and show nothing (queues and stacks are
// not drained). An error from fn stops the walk and is returned.
func (m *Map) Dump(limit uint64, fn func(key, value []byte, err error) error) (MapDumpStats, error) {
	var st MapDumpStats
	shown := uint64(0)
	show := func(key func() []byte, value func() ([]byte, error)) error {
		if limit != 0 && shown >= limit {
			st.More++
			return nil
		}
		shown++
		k := key()
		v, err := value()
		return fn(k, v, err)
	}
	index := func(i uint32) func() []byte {
		return func() []byte { return binary.NativeEndian.AppendUint32(nil, i) }
	}
	lookup := func(k func() []byte) func() ([]byte, error) {
		return func() ([]byte, error) {
			var v []byte
			err := m.Lookup(k(), &v)
			return v, err
		}
	}
	switch mm := m.m.(type) {
	case *maps.RingBufMap:
		var buf []byte
		for {
			rec, ok := mm.TryRead(buf)
			if !ok {
				return st, nil
			}
			buf = rec
			if err := show(func() []byte { return nil }, func() ([]byte, error) { return rec, nil }); err != nil {
				return st, err
			}
		}
	case *maps.ArrayMap:
		total := uint64(m.MaxEntries())
		var visited uint64
		for next := uint32(0); ; {
			i, ok := mm.NextNonZero(next)
			if !ok {
				break
			}
			visited++
			if err := show(index(i), lookup(index(i))); err != nil {
				return st, err
			}
			if i == ^uint32(0) {
				break
			}
			next = i + 1
		}
		st.Zero = total - visited
		return st, nil
	case *maps.HandleArrayMap:
		for next := uint32(0); ; {
			i, ok := mm.NextUsed(next)
			if !ok {
				break
			}
			if err := show(index(i), lookup(index(i))); err != nil {
				return st, err
			}
			if i == ^uint32(0) {
				break
			}
			next = i + 1
		}
		return st, nil
	}
	switch m.spec.Type {
	case maps.Queue, maps.Stack, maps.BloomFilter, maps.PerfEventArray, maps.XSKMap, maps.SkStorage:
		// No keys to list (sk storage: as in Linux, whose keys are
		// file descriptors of the caller's).
		return st, nil
	}
	it := m.Iterate()
	var k, v []byte
	for it.Next(&k, &v) {
		if err := show(func() []byte { return k }, func() ([]byte, error) { return v, nil }); err != nil {
			return st, err
		}
	}
	return st, it.Err()
}
