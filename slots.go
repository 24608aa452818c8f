package bpfhost

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// slotPool hands out execution slots, the runtime's "CPUs" (DESIGN.md #3): a
// run holds one slot from entry to exit and no two runs share one, so per-CPU
// map values indexed by slot need no locks. Each slot keeps a RunContext (and
// its stack) for reuse. Acquiring is a compare-and-swap on a free slot; only
// when every slot is busy does a caller wait.
type slotPool struct {
	busy    []paddedFlag
	rcs     []vm.RunContext
	scratch []slotScratch
	next    atomic.Uint32
	waiters atomic.Int32
	mu      sync.Mutex
	cond    *sync.Cond
	// closed (under mu) is set when the collection closes: its slots stay
	// taken and acquire fails.
	closed bool
	// stopping is set while exclusive gathers the slots: new runs wait
	// for it instead of taking the slots it waits for, so that a steady
	// stream of runs cannot starve a Close.
	stopping atomic.Bool
	// stopMu serialises exclusive, so that two of them never each hold a
	// part of the slots while waiting for the rest.
	stopMu sync.Mutex
}

// slotScratch is the memory of a slot's XDP test runs, reused from run to
// run: the packet page (XDP_PACKET_HEADROOM, the data, the shared info),
// the host xdp context and the helpers' per-run state. Only the run that
// holds the slot uses it.
type slotScratch struct {
	page [pageSize]byte
	xdp  linux.XDPContext
	run  helpers.Run
}

// A slot's flag holds its state in the low two bits (free, held by a run,
// held by exclusive with no run inside) and, above them, a count of the
// runs that held it and ended, which quiesceOthers watches: a run-held
// slot's flag changes only when its run ends (or passes a quiescent point).
const (
	slotFree = iota
	slotRun
	slotHeld
	slotState = 3
	slotEnded = 4 // one ended run, in the count
)

// paddedFlag keeps each slot's flag on its own cache line.
type paddedFlag struct {
	v atomic.Uint32
	_ [60]byte
}

// take moves the slot from free to state st (slotRun, slotHeld), keeping
// its count; it fails if the slot is not free.
func (f *paddedFlag) take(st uint32) bool {
	cur := f.v.Load()
	return cur&slotState == slotFree && f.v.CompareAndSwap(cur, cur|st)
}

// free frees the slot; ended says a run held it, which the count records.
// Only the slot's holder writes the flag while it holds it.
func (f *paddedFlag) free(ended bool) {
	cur := f.v.Load() &^ slotState
	if ended {
		cur += slotEnded
	}
	f.v.Store(cur)
}

// livePools holds the slot pools of the open collections (*slotPool keys),
// for quiesceOthers.
var livePools sync.Map

// quiesceOthers waits until every run that holds a slot of another pool
// than except, when it is called, has ended: afterwards none of them can
// still be inside code or memory that was unreachable to new runs before
// the call. It is how a collection whose programs were stored in program
// arrays (which runs of other collections tail-call through) frees them
// (Linux keeps such a program alive by the array's reference and frees it
// after an RCU grace period; this is the grace period). Slots held by
// exclusive have no run inside and are not waited for.
func quiesceOthers(except *slotPool) {
	livePools.Range(func(k, _ any) bool {
		p := k.(*slotPool)
		if p == except {
			return true
		}
		for s := range p.busy {
			f := &p.busy[s]
			cur := f.v.Load()
			if cur&slotState != slotRun {
				continue
			}
			for f.v.Load() == cur {
				time.Sleep(20 * time.Microsecond)
			}
		}
		return true
	})
}

// DefaultSlots is the number of execution slots of a collection whose
// options set none: one per GOMAXPROCS, capped at maps.MaxSlots so that a
// host with more processors (or GOMAXPROCS set high) gets fewer slots, not
// failing maps.
func DefaultSlots() int {
	return min(runtime.GOMAXPROCS(0), maps.MaxSlots)
}

func newSlotPool(n int) *slotPool {
	p := &slotPool{busy: make([]paddedFlag, n), rcs: make([]vm.RunContext, n), scratch: make([]slotScratch, n)}
	p.cond = sync.NewCond(&p.mu)
	for i := range p.rcs {
		p.rcs[i].Slot = i
	}
	livePools.Store(p, struct{}{})
	return p
}

func (p *slotPool) tryAcquire() (int, bool) {
	n := uint32(len(p.busy))
	start := p.next.Add(1)
	for i := uint32(0); i < n; i++ {
		s := (start + i) % n
		if p.busy[s].take(slotRun) {
			return int(s), true
		}
	}
	return 0, false
}

// acquire returns a free slot and its run context, waiting if there is none.
// Once the collection is closed it returns a nil run context (and no slot
// to release).
func (p *slotPool) acquire() (int, *vm.RunContext) {
	if !p.stopping.Load() {
		if s, ok := p.tryAcquire(); ok {
			return s, &p.rcs[s]
		}
	}
	p.waiters.Add(1)
	p.mu.Lock()
	for {
		if p.stopping.Load() {
			p.cond.Wait()
			continue
		}
		if s, ok := p.tryAcquire(); ok {
			p.mu.Unlock()
			p.waiters.Add(-1)
			return s, &p.rcs[s]
		}
		if p.closed {
			p.mu.Unlock()
			p.waiters.Add(-1)
			return -1, nil
		}
		p.cond.Wait()
	}
}

// exclusive runs f while no run holds a slot: it takes every slot, waiting
// for the runs in progress to end, so that f may close what runs use (a
// program's code, the maps) without pulling it from under one, as closing
// a file descriptor never does to a running program in Linux. With final,
// the slots stay taken afterwards and every later acquire fails; otherwise
// they are given back.
func (p *slotPool) exclusive(final bool, f func()) {
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed { // the slots are already ours
		f()
		return
	}
	held := make([]bool, len(p.busy))
	left := len(held)
	p.waiters.Add(1)
	p.mu.Lock()
	p.stopping.Store(true)
	for {
		// Only runs that passed the stopping check before it was set
		// can still take a slot; each of them releases it again, and
		// every release while a waiter waits broadcasts.
		for s := range p.busy {
			if !held[s] && p.busy[s].take(slotHeld) {
				held[s] = true
				left--
			}
		}
		if left == 0 {
			break
		}
		p.cond.Wait()
	}
	p.mu.Unlock()
	p.waiters.Add(-1)
	f()
	p.mu.Lock()
	p.stopping.Store(false)
	if final {
		p.closed = true
		livePools.Delete(p)
	} else {
		for s := range p.busy {
			p.busy[s].free(false)
		}
	}
	// Wake every waiter: to take the slots given back, or to fail.
	p.cond.Broadcast()
	p.mu.Unlock()
}

// quiescent records that the run holding slot s is between two programs'
// runs (a repetition ended): for quiesceOthers, it is a run that ended.
func (p *slotPool) quiescent(s int) { p.busy[s].v.Add(slotEnded) }

// release frees a slot.
func (p *slotPool) release(s int) {
	rc := &p.rcs[s]
	rc.Value, rc.Regions, rc.Packet, rc.TailCall, rc.Context = nil, rc.Regions[:0], nil, nil, nil
	p.busy[s].free(true)
	if p.waiters.Load() > 0 {
		p.mu.Lock()
		if p.stopping.Load() {
			// The waiters include exclusive's, which a Signal might
			// not reach (it could wake a run that goes back to sleep).
			p.cond.Broadcast()
		} else {
			p.cond.Signal()
		}
		p.mu.Unlock()
	}
}

// size returns the number of slots.
func (p *slotPool) size() int { return len(p.busy) }
