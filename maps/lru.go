package maps

import "sync/atomic"

// lruList orders the elements of an LRU map from most to least recently
// inserted or updated, by element index. It is guarded by table.mu; ref
// bits are set without it by lookups.
type lruList struct {
	prev, next []int32
	listed     []bool
	ref        []uint32 // atomic: looked up since last passed over
	head, tail int32
}

func newLRUList(n uint32) lruList {
	return lruList{
		prev:   make([]int32, n),
		next:   make([]int32, n),
		listed: make([]bool, n),
		ref:    make([]uint32, n),
		head:   -1,
		tail:   -1,
	}
}

// pushFront adds e as the most recent element.
func (l *lruList) pushFront(e int32) {
	atomic.StoreUint32(&l.ref[e], 0)
	l.prev[e] = -1
	l.next[e] = l.head
	if l.head >= 0 {
		l.prev[l.head] = e
	} else {
		l.tail = e
	}
	l.head = e
	l.listed[e] = true
}

// unlist removes e and reports whether it was listed: whoever unlists an
// element owns it (a delete frees it, an eviction reuses it).
func (l *lruList) unlist(e int32) bool {
	if !l.listed[e] {
		return false
	}
	l.listed[e] = false
	if p := l.prev[e]; p >= 0 {
		l.next[p] = l.next[e]
	} else {
		l.head = l.next[e]
	}
	if n := l.next[e]; n >= 0 {
		l.prev[n] = l.prev[e]
	} else {
		l.tail = l.prev[e]
	}
	return true
}

// moveToFront makes a listed element the most recent.
func (l *lruList) moveToFront(e int32) {
	if l.unlist(e) {
		l.pushFront(e)
	}
}

// evict claims the least recently used element and unlinks it from its
// bucket; -1 if the list is empty. Referenced elements at the tail get a
// second chance: their bit is cleared and they move to the front.
func (h *HashMap) evict() int32 {
	h.t.mu.Lock()
	victim := int32(-1)
	for range len(h.prev) + 1 {
		e := h.tail
		if e < 0 {
			break
		}
		if atomic.LoadUint32(&h.ref[e]) != 0 {
			h.moveToFront(e)
			continue
		}
		h.unlist(e)
		victim = e
		break
	}
	h.t.mu.Unlock()
	if victim < 0 {
		return -1
	}
	// Claimed: nobody else frees or reuses it. Unlink it from its bucket
	// unless a concurrent delete already did.
	b := h.t.hashOf(victim) & h.t.mask
	l := h.t.lock(b)
	l.Lock()
	h.t.unlink(b, victim)
	l.Unlock()
	return victim
}
