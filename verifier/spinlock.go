package verifier

import (
	"fmt"
	"math"
)

// Spin lock words. A map value may hold one struct bpf_spin_lock
// (MapInfo.HasSpinLock): bpf_spin_lock and bpf_spin_unlock take exactly
// that word, and nothing else may read or write it — a plain store of 1
// would make the next bpf_spin_lock spin forever. As in Linux, the lock's
// place comes from the map's BTF, so that every program of a collection
// agrees on it.

// lockWords returns the offsets of the spin lock words a value of map
// region may hold (a merged region: those of each map it stands for).
func (a *analyzer) lockWords(region int32) []uint32 {
	var offs []uint32
	add := func(id int32) {
		if mi := a.maps[id]; mi.HasSpinLock {
			offs = append(offs, mi.SpinLockOffset)
		}
	}
	if parts, ok := a.parts[region]; ok {
		for _, id := range parts {
			add(id)
		}
		return offs
	}
	add(region)
	return offs
}

// lockSize is sizeof(struct bpf_spin_lock).
const lockSize = 4

// checkLockWord reports an access of size bytes at offsets [lo, hi] (plus
// off) into a value of map region that may touch its spin lock word.
func (e *exec) checkLockWord(pc int, region int32, lo, hi int64, off, size int, what string) {
	if lo == math.MinInt64 || hi == math.MaxInt64 {
		return // unbounded: the bounds check reports it
	}
	for _, w := range e.a.lockWords(region) {
		start, end := lo+int64(off), hi+int64(off)+int64(size)
		if start < int64(w)+lockSize && int64(w) < end {
			e.fail(pc, "%s at offset %s of map %s's value would touch its bpf_spin_lock (bytes %d..%d): only bpf_spin_lock and bpf_spin_unlock may use it",
				what, offRange(start, end-int64(size)), e.a.maps[region].Name, w, w+lockSize-1)
			return
		}
	}
}

// spinLockArg checks the argument of bpf_spin_lock and bpf_spin_unlock in
// register r: the lock word of a map value, exactly.
func (e *exec) spinLockArg(s *state, pc, r int, name string) {
	v := s.regs[r]
	mi := e.a.maps[v.region]
	iv := s.ival(r)
	words := e.a.lockWords(v.region)
	switch {
	case len(words) == 0:
		e.fail(pc, "%s: map %s's value has no struct bpf_spin_lock (its BTF type declares none)", name, mi.Name)
	case len(words) > 1 || !iv.isConst() || iv.smin != int64(words[0]):
		e.fail(pc, "%s needs the bpf_spin_lock of map %s's value at offset %d; r%d is at offset %s", name, mi.Name, words[0], r, iv.signedOnly())
	}
}

func offRange(lo, hi int64) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("[%d, %d]", lo, hi)
}

// lockOwner identifies the map element whose lock a state holds: the map
// region and the value's id (0: a single-element array's value).
type lockOwner struct{ region, id int32 }

// lockUnknown is the owner after joining paths that hold different locks,
// or a lock on some paths only: no unlock can be proven right.
var lockUnknown = lockOwner{-1, -1}

// joinLockOwners is the owner of the lock in the join of a and b.
func joinLockOwners(a, b *state) lockOwner {
	switch {
	case !a.lock && !b.lock:
		return lockOwner{}
	case a.lock && b.lock && a.lockOf == b.lockOf:
		return a.lockOf
	}
	return lockUnknown
}

// ownerOf returns the owner of the lock a map value pointer v points to,
// and whether it identifies one element.
func (e *exec) ownerOf(v value) (lockOwner, bool) {
	if v.id != 0 {
		return lockOwner{v.region, v.id}, true
	}
	single := e.sameObject(v, v)
	return lockOwner{v.region, 0}, single
}
