package amd64

import (
	"unsafe"

	"github.com/bpfhost/bpfhost/vm"
)

// Checked code tests an access outside the live stack frames against a
// table of the run's first regions before it leaves for Go: map values,
// the context and the packet are then reached without an exit. The table
// is filled lazily, at the first access that leaves (most runs never need
// it). Helpers may change rc.Regions (bpf_for_each_map_elem adds the
// element's key and value while its callback runs), and nested runs of
// callbacks refill the same table: after a helper call Run keeps the table
// only if it still describes rc.Regions.
// The search tries first the entry that allowed the previous search of the
// run (context.lastHit), if that entry overlaps no earlier one, so that
// runs of accesses to one packet or map value cost two compares each.
// The table outlives the run: the next run of the same context that has the
// same leading regions (the common case: a slot's context, packet page and
// map memory stay put) starts with it instead of leaving for Go to refill it.
// Regions the table cannot hold are left to Go, which tests all of them in
// order; the inline test gives the same answer because it stops at the
// first region that contains the access, as vm.RunContext.Check does, and
// leaves for Go to report a write to a read-only one.

// regionSlots is how many regions the table holds.
const regionSlots = 8

// regionEntry is one region as checked code tests it.
type regionEntry struct {
	start uint64
	// limit[i] is the highest address at which an access of 1<<i bytes
	// lies inside; start-1 if the region is smaller.
	limit    [4]uint64
	writable uint64 // 1 or 0
	// alone is 1 if the region overlaps no earlier entry: then it is the
	// first region to contain any address it contains, and the code may
	// test it first next time (context.lastHit).
	alone uint64
}

// Offsets the generated code uses.
const (
	regionSize     = int32(unsafe.Sizeof(regionEntry{}))
	offRegionLimit = int32(unsafe.Offsetof(regionEntry{}.limit))
	offRegionWrite = int32(unsafe.Offsetof(regionEntry{}.writable))
	offRegionAlone = int32(unsafe.Offsetof(regionEntry{}.alone))
)

// runState is the engine's scratch state in vm.RunContext.EngineState,
// reused by the runs of one context.
type runState struct {
	regions [regionSlots]regionEntry
	// from are the regions the table was last filled from (those it
	// skipped too), by any run of the context, to tell whether it
	// describes a region list.
	from []regionKey
	// n is how many entries the table holds; filled is whether it was
	// ever filled.
	n      int
	filled bool
}

// regionKey is what the table takes from a vm.Region.
type regionKey struct {
	start, size uintptr
	writable    bool
}

// stateOf returns rc's runState, making one if rc holds none (or another
// engine's).
func stateOf(rc *vm.RunContext) *runState {
	if s, ok := rc.EngineState.(*runState); ok {
		return s
	}
	s := &runState{from: make([]regionKey, 0, regionSlots)}
	rc.EngineState = s
	return s
}

// fillRegions makes the table from the leading regions (at most
// regionSlots of them) and points c at it. Empty regions contain nothing and get no entry; the table ends
// before a region it cannot represent (at address 0, or wrapping around),
// so that it is always a prefix of the regions' order.
func (s *runState) fillRegions(c *context, regions []vm.Region) {
	s.from = s.from[:0]
	n := 0
	for _, r := range regions[:min(len(regions), regionSlots)] {
		s.from = append(s.from, regionKey{r.Start, r.Size, r.Writable})
		if r.Size == 0 {
			continue
		}
		end := r.Start + r.Size
		if r.Start == 0 || end < r.Start {
			break
		}
		e := &s.regions[n]
		e.start = uint64(r.Start)
		for i := range e.limit {
			if size := uintptr(1) << i; r.Size >= size {
				e.limit[i] = uint64(end - size)
			} else {
				e.limit[i] = uint64(r.Start) - 1
			}
		}
		e.writable = 0
		if r.Writable {
			e.writable = 1
		}
		e.alone = 1
		for _, o := range s.regions[:n] {
			if o.start < uint64(end) && e.start <= o.limit[0] {
				e.alone = 0
			}
		}
		n++
	}
	s.n, s.filled = n, true
	s.point(c)
}

// point makes c's checked code search the table.
func (s *runState) point(c *context) {
	c.regTab = uint64(uintptr(unsafe.Pointer(&s.regions[0])))
	c.regEnd = c.regTab + uint64(s.n)*uint64(regionSize)
	c.lastHit = 0
}

// reuse points c at the table of an earlier run of rc if it still
// describes rc.Regions, and returns the state (nil if it does not).
func reuse(c *context, rc *vm.RunContext) *runState {
	s, ok := rc.EngineState.(*runState)
	if !ok || !s.filled || !s.holds(rc.Regions) {
		return nil
	}
	s.point(c)
	return s
}

// holds reports whether the table describes regions: whether a run that
// filled it before a helper call may still use it.
func (s *runState) holds(regions []vm.Region) bool {
	if len(regions) < len(s.from) {
		return false
	}
	for i, k := range s.from {
		if r := &regions[i]; r.Start != k.start || r.Size != k.size || r.Writable != k.writable {
			return false
		}
	}
	return true
}

// regionCheck emits, in the out-of-line path of a checked access whose
// address is in tmp2, the search of the region table: it continues at
// access if a region allows the access and at miss otherwise (no table
// yet, no region, a misaligned atomic, a write to a read-only region).
func (c *compiler) regionCheck(size int, write, atomic bool, access, miss label) {
	a := &c.a
	if atomic {
		a.testRI(false, tmp2, int32(size-1))
		a.jcc(ccNE, miss)
	}
	limit := offRegionLimit + 8*int32(log2(size))
	// The entry that allowed the last search, first: consecutive accesses
	// tend to go to the same region (a packet, a map value).
	scan := a.newLabel()
	a.load(true, tmp1, ctxReg, offLastHit)
	a.aluRR(opTest, true, tmp1, tmp1)
	a.jcc(ccE, scan)
	a.rm(0, true, false, []byte{0x3b}, tmp2, tmp1, 0) // cmp tmp2, start
	a.jcc(ccB, scan)
	a.rm(0, true, false, []byte{0x3b}, tmp2, tmp1, limit) // cmp tmp2, limit
	a.jcc(ccA, scan)
	if write {
		a.aluMI(extCmp, tmp1, offRegionWrite, 0)
		a.jcc(ccE, miss) // the first region that contains it is read-only
	}
	a.jmp(access)

	a.bind(scan)
	loop, next, found := a.newLabel(), a.newLabel(), a.newLabel()
	a.load(true, tmp1, ctxReg, offRegTab)
	a.bind(loop)
	a.rm(0, true, false, []byte{0x3b}, tmp1, ctxReg, offRegEnd) // cmp tmp1, regEnd
	a.jcc(ccAE, miss)
	a.rm(0, true, false, []byte{0x3b}, tmp2, tmp1, 0) // cmp tmp2, start
	a.jcc(ccB, next)
	a.rm(0, true, false, []byte{0x3b}, tmp2, tmp1, limit) // cmp tmp2, limit
	a.jcc(ccA, next)
	if write {
		a.aluMI(extCmp, tmp1, offRegionWrite, 0)
		a.jcc(ccE, miss)
	}
	a.aluMI(extCmp, tmp1, offRegionAlone, 0)
	a.jcc(ccE, found)
	a.store(true, ctxReg, offLastHit, tmp1)
	a.bind(found)
	a.jmp(access)
	a.bind(next)
	a.aluRI(extAdd, true, tmp1, regionSize)
	a.jmp(loop)
}

// log2 of an access size (1, 2, 4 or 8).
func log2(size int) int {
	n := 0
	for size > 1 {
		size >>= 1
		n++
	}
	return n
}
