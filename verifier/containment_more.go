package verifier

import (
	"fmt"
	"math/bits"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// The containment checks beyond values and relations (containment.go):
// what a run holds (ring buffer records, a spin lock) against the state's
// references and lock, the stack bytes the run has written against the
// bytes the state believes initialised, the registers an instruction reads
// against those the state believes uninitialised, and loop trip counts
// against the state's loop counters. They also bound the memory the kept
// states take (Containment.MaxBytes).

// Held is what a run holds at one instruction.
type Held struct {
	// Records are the ring buffer records reserved and not yet submitted
	// or discarded.
	Records []HeldRecord
	// Lock is the address of the bpf_spin_lock word the run holds, 0 if
	// none.
	Lock uint64
	// Sockets are the sockets the run's lookups returned and it has not
	// released (Start is the address the lookup returned; Site and Depth
	// its call).
	Sockets []HeldRecord
}

// HeldRecord is a ring buffer record a run holds.
type HeldRecord struct {
	// Start is the record's address, what bpf_ringbuf_reserve returned.
	Start uint64
	// Site is the instruction of the bpf_ringbuf_reserve call that
	// reserved it, and Depth the call depth that call ran at.
	Site, Depth int
}

// callValueID is the id the analysis gives the values a helper call at pc
// returns in a function at call depth depth (the helper's fresh): for a
// ring buffer record, the reference the state holds.
func callValueID(pc, depth int) int32 { return int32(pc + 1 + depth<<22) }

// DefaultContainmentBytes is Containment.MaxBytes's default.
const DefaultContainmentBytes = 1 << 30

func (c *Containment) maxBytes() int64 {
	if c.MaxBytes <= 0 {
		return DefaultContainmentBytes
	}
	return c.MaxBytes
}

// charge counts the memory of a kept state against Containment.MaxBytes;
// past it the containment is over budget (over), which stops the analysis
// (checkKept).
func (c *Containment) charge(s *state) {
	c.Bytes += stateBytes(s)
	if c.Bytes > c.maxBytes() {
		c.over = true
	}
}

// checkKept stops the analysis when the states kept for containment
// exceed their budget: the containment would be partial, so the
// verification fails with a *LimitError rather than keep going.
func (a *analyzer) checkKept() error {
	if c := a.opts.Containment; c != nil && c.a == a && c.over {
		return a.stop(&LimitError{Limit: "containment state memory", Max: byteSize(c.maxBytes()), Option: "Containment.MaxBytes"})
	}
	return nil
}

// held checks what the run holds (cs.Held) against s: every record held
// must be one s's references include, a lock held must be one s may hold
// (of the element s names, when it names one), and a lock s holds on
// every path must be held.
func (c *Containment) held(s *state, cs *Concrete) string {
	h := cs.Held
	if h == nil {
		return ""
	}
	for _, rec := range h.Records {
		if !s.hasRef(callValueID(rec.Site, rec.Depth)) {
			return fmt.Sprintf("the run holds the ring buffer record (%#x) reserved at insn %d in call depth %d, which the verifier believes not held", rec.Start, rec.Site, rec.Depth)
		}
	}
	for _, sk := range h.Sockets {
		if !s.hasRef(callValueID(sk.Site, sk.Depth)) {
			return fmt.Sprintf("the run holds the socket (%#x) looked up at insn %d in call depth %d, which the verifier believes not held", sk.Start, sk.Site, sk.Depth)
		}
	}
	switch {
	case h.Lock != 0 && !s.lock:
		return fmt.Sprintf("the run holds a bpf_spin_lock (word at %#x), which the verifier believes not held", h.Lock)
	case h.Lock == 0 && s.lock && s.lockOf != lockUnknown:
		return "the run holds no bpf_spin_lock, which the verifier believes held on every path"
	case h.Lock != 0 && s.lockOf != lockUnknown && int(s.lockOf.region) < c.users && cs.Element != nil:
		mi := c.a.maps[s.lockOf.region]
		if start, ok := cs.Element(int(s.lockOf.region), h.Lock); !ok || h.Lock-start != uint64(mi.SpinLockOffset) {
			return fmt.Sprintf("the run holds the bpf_spin_lock at %#x, not the lock of a map %s value the verifier believes held", h.Lock, mi.Name)
		}
	}
	return ""
}

// heldRecord returns the record the run holds whose values have id.
func heldRecord(h *Held, id int32) (HeldRecord, bool) {
	for _, rec := range h.Records {
		if callValueID(rec.Site, rec.Depth) == id {
			return rec, true
		}
	}
	return HeldRecord{}, false
}

// record checks that x, a record pointer of the values with id (not NULL),
// points into the record the run holds for that id.
func (c *Containment) record(v value, x uint64, cs *Concrete) string {
	if cs.Held == nil || v.id == 0 || cs.Element == nil {
		return ""
	}
	rec, ok := heldRecord(cs.Held, v.id)
	if !ok {
		return fmt.Sprintf("%s, but the run holds no record reserved at insn %d", v, int(v.id-1)&(1<<22-1))
	}
	if start, in := cs.Element(-1, x); !in || start != rec.Start {
		return fmt.Sprintf("%s, but it points into another record than the one (%#x) reserved at insn %d", v, rec.Start, rec.Site)
	}
	return ""
}

// socket checks that x, a socket pointer of the values with id (not NULL),
// is the socket the run holds for that id.
func (c *Containment) socket(v value, x uint64, cs *Concrete) string {
	if cs.Held == nil || v.id == 0 {
		return ""
	}
	for _, sk := range cs.Held.Sockets {
		if callValueID(sk.Site, sk.Depth) == v.id {
			if sk.Start != x {
				return fmt.Sprintf("%s at %#x, but the socket looked up at insn %d is at %#x", v, x, sk.Site, sk.Start)
			}
			return ""
		}
	}
	return fmt.Sprintf("%s, but the run holds no socket looked up at insn %d", v, int(v.id-1)&(1<<22-1))
}

// initialized checks that every stack byte s believes initialised has been
// written in the run (cs.Written).
func (c *Containment) initialized(s *state, cs *Concrete) string {
	if cs.Written == nil {
		return ""
	}
	for fi, f := range s.frames {
		w := cs.Written(fi)
		if w == nil {
			continue
		}
		for i, word := range f.init {
			if miss := word &^ w[i]; miss != 0 {
				off := i*64 + bits.TrailingZeros64(miss) - frameSize
				return fmt.Sprintf("frame %d byte r10%+d was never written, which the verifier believes initialised", fi, off)
			}
		}
	}
	return ""
}

// uninitRead checks that the instruction at pc reads no register s
// believes uninitialised (the verifier rejects such reads: one in a
// contained state is a check the analysis skipped).
func (c *Containment) uninitRead(s *state, pc int) string {
	if c.a.prog[pc].IsExit() && s.depth() > 0 {
		// A function that returns nothing leaves r0 unset, and its exit
		// hands r0 back unread (the caller may not read it); a callback's
		// exit does read it, which the analysis checks on its own.
		return ""
	}
	for _, r := range c.reads(pc) {
		if s.regs[r].kind == kUninit {
			return fmt.Sprintf("insn %d reads r%d, which the verifier believes uninitialised", pc, r)
		}
	}
	return ""
}

// reads returns the registers the instruction at pc reads.
func (c *Containment) reads(pc int) []int {
	ins := c.a.prog[pc]
	op := ins.Opcode
	dst, src := int(ins.Dst), int(ins.Src)
	switch cls := op.Class(); {
	case ins.IsLoadImm64():
		return nil
	case cls.IsALU():
		switch {
		case op.ALUOp() == isa.ALUMov && op.Source() == isa.SourceX && cls == isa.ClassALU64 && ins.Offset == 0:
			// A whole copy of an uninitialised register reads nothing:
			// the copy is uninitialised too (the analysis's alu).
			return nil
		case op.ALUOp() == isa.ALUMov && op.Source() == isa.SourceX:
			return []int{src}
		case op.ALUOp() == isa.ALUMov:
			return nil
		case op.Source() == isa.SourceX && op.ALUOp() != isa.ALUNeg && op.ALUOp() != isa.ALUEnd:
			return []int{dst, src}
		}
		return []int{dst}
	case cls == isa.ClassLD:
		if op.Mode() == isa.ModeIND {
			return []int{6, src}
		}
		return []int{6}
	case cls == isa.ClassLDX:
		return []int{src}
	case cls == isa.ClassST:
		return []int{dst}
	case cls == isa.ClassSTX:
		if op.Mode() == isa.ModeATOMIC && ins.Imm == isa.AtomicCmpXchg {
			return []int{dst, src, 0}
		}
		return []int{dst, src}
	case ins.IsExit():
		return []int{0}
	case op == isa.OpCallX:
		return []int{dst}
	case op == isa.OpCall && ins.Src == isa.CallHelper:
		proto, ok := c.a.opts.ABI.HelperByID(platform.HelperID(ins.Imm))
		if !ok {
			return nil
		}
		var rs []int
		for i := 0; i < proto.NumArgs(); i++ {
			rs = append(rs, i+1)
		}
		return rs
	case ins.IsConditionalJump():
		if op.Source() == isa.SourceX {
			return []int{dst, src}
		}
		return []int{dst}
	}
	return nil
}

// loops follows the loop trip counts of a run: for each live call depth,
// the previous instruction run at that depth and, for each loop head, the
// back edges taken to it since the loop was last entered (the analysis's
// counter locations, locCounter).
type loops struct {
	last  []int           // by depth: the previous instruction, -1 at frame entry
	trips []map[int]int64 // by depth: head pc -> trips
	live  int             // frames live after the previous step
}

// locate returns the function and block of pc, if the analysis has them.
func (c *Containment) locate(pc int) (*function, int, bool) {
	if c.fnAt == nil {
		c.fnAt = make([]*function, len(c.a.prog))
		c.blockAt = make([]int32, len(c.a.prog))
		for _, fn := range c.a.funcs {
			for bi, b := range fn.blocks {
				for p := b.start; p < b.end && p < len(c.fnAt); p++ {
					c.fnAt[p], c.blockAt[p] = fn, int32(bi)
				}
			}
		}
	}
	if pc < 0 || pc >= len(c.fnAt) || c.fnAt[pc] == nil {
		return nil, 0, false
	}
	return c.fnAt[pc], int(c.blockAt[pc]), true
}

// step follows the run to pc at call depth depth.
func (l *loops) step(c *Containment, pc, depth int) {
	for len(l.last) <= depth {
		l.last = append(l.last, -1)
		l.trips = append(l.trips, map[int]int64{})
	}
	// A frame entered since the previous step starts afresh.
	for d := l.live + 1; d <= depth; d++ {
		l.last[d] = -1
		clear(l.trips[d])
	}
	prev := l.last[depth]
	l.last[depth] = pc
	l.live = depth
	if c.a.prog[pc].IsExit() && depth > 0 {
		l.live = depth - 1 // the frame ends here
	}
	fn, b, ok := c.locate(pc)
	if !ok || fn.blocks[b].start != pc || !fn.heads[b] {
		return
	}
	if pfn, pb, ok := c.locate(prev); ok && prev >= 0 && pfn == fn && fn.inComponent(pb, b) {
		l.trips[depth][pc]++
	} else {
		l.trips[depth][pc] = 0
	}
}

// counters appends the trip counts of the loops around pc at depth to
// nums, as the zone's counter locations.
func (l *loops) counters(c *Containment, pc, depth int, nums []known) []known {
	if depth >= len(l.trips) {
		return nums
	}
	fn, b, ok := c.locate(pc)
	if !ok {
		return nums
	}
	for _, h := range fn.blocks[b].heads {
		hpc := fn.blocks[h].start
		if n, ok := l.trips[depth][hpc]; ok {
			nums = append(nums, known{l: locCounter(depth, hpc), n: n})
		}
	}
	return nums
}
