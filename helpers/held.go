package helpers

import (
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/vm"
)

// A run that ends while it holds a spin lock or a ring buffer record — it
// failed, ran out of budget, or is an unverified program that never
// released them — would leave the lock taken (every later bpf_spin_lock on
// it waits) or the record pending (the ring stops delivering). The helpers
// note what a run acquires in its Run, and Release gives back what is left.

// heldItem is one held lock (ring nil) or ring buffer record.
type heldItem struct {
	addr unsafe.Pointer
	ring *maps.RingBufMap
}

// heldSet keeps the few items a run holds at once without allocating.
type heldSet struct {
	n     int
	fixed [4]heldItem
	more  []heldItem
}

func (h *heldSet) add(it heldItem) {
	if h.n < len(h.fixed) {
		h.fixed[h.n] = it
	} else {
		h.more = append(h.more, it)
	}
	h.n++
}

func (h *heldSet) at(i int) *heldItem {
	if i < len(h.fixed) {
		return &h.fixed[i]
	}
	return &h.more[i-len(h.fixed)]
}

// remove drops the item at addr, if it is held.
func (h *heldSet) remove(addr unsafe.Pointer) {
	for i := 0; i < h.n; i++ {
		if h.at(i).addr == addr {
			last := h.n - 1
			*h.at(i) = *h.at(last)
			if last >= len(h.fixed) {
				h.more = h.more[:last-len(h.fixed)]
			}
			h.n--
			return
		}
	}
}

// heldRun returns the run's Run, or nil.
func heldRun(rc *vm.RunContext) *Run {
	r, _ := rc.Value.(*Run)
	return r
}

// Release unlocks the spin locks, discards the ring buffer records and
// frees the sockets the run still holds. Callers run it when a run ends, whether it failed or
// not (a verified program that returns holds nothing).
func (r *Run) Release() {
	h := &r.held
	for i := 0; i < h.n; i++ {
		it := h.at(i)
		if it.ring == nil {
			maps.SpinUnlock(it.addr)
		} else {
			it.ring.Discard(it.addr, 0)
		}
	}
	h.n = 0
	h.more = h.more[:0]
	r.releaseSockets()
}

// Holds calls f with the address of each spin lock word (lock true) and
// ring buffer record (lock false) the run holds now, for oracles that
// compare what a run holds with what the verifier believes it holds.
func (r *Run) Holds(f func(addr uint64, lock bool)) {
	for i := 0; i < r.held.n; i++ {
		it := r.held.at(i)
		f(uint64(uintptr(it.addr)), it.ring == nil)
	}
}
