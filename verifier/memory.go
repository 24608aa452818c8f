package verifier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// Memory accesses: which region a base register points to decides the
// check (context descriptor, packet bounds proven by comparisons, stack
// frame and initialisation, map value size and NULL, ring buffer record
// size), and what a load produces.

// access describes one load, store or atomic operation.
type access struct {
	pc     int
	base   int // register holding the address
	off    int // the instruction's offset
	size   int
	write  bool
	atomic bool
	imm    bool // BPF_ST: the stored value is the immediate
	val    int  // register stored (STX), or -1
	sx     bool // sign-extending load
}

func (m access) verb() string {
	switch {
	case m.atomic:
		return "atomic operation"
	case m.write:
		return "write"
	}
	return "read"
}

func plural(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

// loadResult is what a load of size bytes produces when the memory holds
// plain data.
func loadResult(size int, sx bool) ival {
	if sx {
		half := int64(1) << (size*8 - 1)
		return srange(-half, half-1)
	}
	if size == 8 {
		return topIval
	}
	return urange(0, 1<<(size*8)-1)
}

func (e *exec) load(s *state, pc int, ins isa.Instruction) {
	m := access{pc: pc, base: int(ins.Src), off: int(ins.Offset), size: ins.Opcode.Size().Bytes(), val: -1,
		sx: ins.Opcode.Mode() == isa.ModeMEMSX}
	v, iv, l := e.memory(s, m)
	dst := int(ins.Dst)
	if l != 0 {
		// A stack spill: the value and its relations.
		s.regs[dst] = v
		if v.kind.hasOffset() {
			s.z.copyLoc(locReg(dst), l)
		} else {
			s.z.forget(locReg(dst))
		}
		return
	}
	s.set(dst, v, iv)
}

func (e *exec) store(s *state, pc int, ins isa.Instruction) {
	m := access{pc: pc, base: int(ins.Dst), off: int(ins.Offset), size: ins.Opcode.Size().Bytes(), write: true, val: -1}
	if ins.Opcode.Class() == isa.ClassST {
		m.imm = true
	} else {
		m.val = int(ins.Src)
		if !e.readable(s, pc, m.val) {
			return
		}
	}
	e.memory(s, m)
}

func (e *exec) atomic(s *state, pc int, ins isa.Instruction) {
	m := access{pc: pc, base: int(ins.Dst), off: int(ins.Offset), size: ins.Opcode.Size().Bytes(), write: true, atomic: true, val: int(ins.Src)}
	src := int(ins.Src)
	if e.readable(s, pc, src) && ins.Imm != isa.AtomicXchg && ins.Imm != isa.AtomicCmpXchg {
		e.scalar(s, pc, src, "atomic operations take a number")
	}
	if ins.Imm == isa.AtomicCmpXchg {
		e.readable(s, pc, 0)
		if s.regs[0].kind.mayPoint() {
			e.fail(pc, "%s: cmpxchg compares numbers", e.pointerDesc(s, 0))
		}
	}
	e.memory(s, m)
	if ins.Imm&isa.AtomicFetch != 0 {
		res := value{kind: kScalar}
		iv := loadResult(m.size, false)
		if ins.Imm == isa.AtomicCmpXchg {
			s.set(0, res, iv)
		} else {
			s.set(src, res, iv)
		}
	}
}

// memory checks an access and, for loads, returns the loaded value; a
// non-zero location means the value is a stack spill whose relations the
// destination should copy.
func (e *exec) memory(s *state, m access) (value, ival, loc) {
	scalar := value{kind: kScalar}
	res := loadResult(m.size, m.sx)
	if !e.readable(s, m.pc, m.base) {
		return scalar, res, 0
	}
	bv := s.regs[m.base]
	if m.write && m.val >= 0 && s.regs[m.val].kind.mayPoint() && bv.kind != kStack && !m.atomic {
		e.fail(m.pc, "%s: storing it into %s would leak it", e.pointerDesc(s, m.val), regionName(bv, e.a))
	}
	if m.atomic && m.val >= 0 && s.regs[m.val].kind.mayPoint() {
		e.fail(m.pc, "%s: atomic operations take numbers", e.pointerDesc(s, m.val))
	}
	if bv.null {
		e.fail(m.pc, "r%d may be NULL: it comes from %s; check it against 0 first", m.base, e.origin(bv))
		return scalar, res, 0
	}
	switch bv.kind {
	case kCtx:
		return e.ctxAccess(s, m)
	case kStack:
		return e.stackAccess(s, m)
	case kPacket:
		e.a.ctxUse[m.pc] |= 2
		e.packetAccess(s, m)
	case kMapValue:
		e.a.ctxUse[m.pc] |= 2
		mi := e.a.maps[bv.region]
		if m.write && mi.ReadOnlyProg {
			e.fail(m.pc, "write to read-only map %s", mi.Name)
		}
		if (!m.write || m.atomic) && mi.WriteOnlyProg {
			e.fail(m.pc, "%s of map %s, which programs may only write (BPF_F_WRONLY_PROG)", m.verb(), mi.Name)
		}
		e.boundedAccess(s, m, int64(mi.ValueSize), "map "+mi.Name+" value")
		lo, hi := s.z.bounds(locReg(m.base))
		e.checkLockWord(m.pc, bv.region, lo, hi, m.off, m.size, m.verb())
		if v, ok := constantLoad(mi, m, lo, hi); ok {
			return scalar, v, 0
		}
	case kRingbuf:
		e.a.ctxUse[m.pc] |= 2
		e.boundedAccess(s, m, int64(bv.region), "ring buffer record")
	case kSocket:
		return e.socketAccess(s, m)
	case kXDPSock:
		return e.xdpSockAccess(s, m)
	case kIterCur:
		return e.iterValueAccess(s, m)
	case kFlowKeys:
		e.a.ctxUse[m.pc] |= 2
		e.boundedAccess(s, m, int64(bv.region), "struct bpf_flow_keys")
	case kBTF:
		e.a.ctxUse[m.pc] |= 4
		return e.btfAccess(s, m)
	case kScalar:
		if iv := s.ival(m.base); iv.isConst() && iv.umin == 0 {
			e.fail(m.pc, "%s through r%d, which is NULL", m.verb(), m.base)
		} else {
			e.fail(m.pc, "%s through r%d, which is a number, not a pointer", m.verb(), m.base)
		}
	case kPacketEnd:
		e.fail(m.pc, "%s through r%d, the packet end pointer (data_end), which points past the packet", m.verb(), m.base)
	case kMapPtr:
		e.fail(m.pc, "%s through r%d, a map pointer: use the map helpers", m.verb(), m.base)
	default:
		e.fail(m.pc, "%s through r%d: %s", m.verb(), m.base, e.describe(s, m.base))
	}
	switch {
	case m.atomic && bv.kind == kPacket:
		e.fail(m.pc, "atomic operations on packet data are not allowed")
	case m.atomic && bv.kind == kFlowKeys:
		// Linux's check_atomic: "BPF_ATOMIC stores into R%d flow_keys is
		// not allowed".
		e.fail(m.pc, "atomic operations on the flow keys are not allowed")
	}
	return scalar, res, 0
}

// origin names where a maybe-NULL pointer came from.
func (e *exec) origin(v value) string {
	what := "a helper"
	if v.origin >= 0 && int(v.origin) < len(e.a.prog) {
		ins := e.a.prog[v.origin]
		if ins.Opcode == isa.OpCall && ins.Src == isa.CallHelper {
			what = e.a.opts.ABI.HelperName(platform.HelperID(ins.Imm))
		} else if name := e.kfuncName(int(v.origin)); ins.Opcode == isa.OpCall && ins.Src == isa.CallKfunc && name != "" {
			what = name
		} else if ins.Opcode.Class() == isa.ClassLDX {
			what = "the load"
		}
	}
	return what + " at " + e.a.where(int(v.origin))
}

func regionName(v value, a *analyzer) string {
	switch v.kind {
	case kMapValue:
		return "map " + a.maps[v.region].Name
	case kPacket:
		return "the packet"
	case kCtx:
		return "the context"
	case kRingbuf:
		return "a ring buffer record"
	case kFlowKeys:
		return "the flow keys"
	}
	return v.kind.String()
}

// ctxAccess checks a context access against the descriptor.
func (e *exec) ctxAccess(s *state, m access) (value, ival, loc) {
	scalar := value{kind: kScalar}
	res := loadResult(m.size, m.sx)
	e.a.ctxUse[m.pc] |= 1
	desc := e.a.opts.Type.Context
	iv := s.ival(m.base)
	switch {
	case desc == nil:
		e.fail(m.pc, "%s through r%d: this program type has no context", m.verb(), m.base)
		return scalar, res, 0
	case !iv.isConst() || iv.umin != 0:
		e.fail(m.pc, "%s through a modified context pointer r%d (offset %s): only ctx+constant is allowed", m.verb(), m.base, iv.signedOnly())
		return scalar, res, 0
	case m.atomic:
		e.fail(m.pc, "atomic operation on the context %s is not allowed", desc.Name)
		return scalar, res, 0
	}
	f, err := desc.Check(m.off, m.size, m.write)
	if err != nil {
		if fl, ok := desc.Field(m.off); ok && m.write && fl.Access&platform.Write == 0 {
			e.fail(m.pc, "write to read-only context field %s.%s", desc.Name, fl.Name)
		} else {
			msg := err.Error()
			if errors.Is(err, platform.ErrContextAccess) {
				msg = strings.TrimPrefix(msg, platform.ErrContextAccess.Error()+": ")
			}
			e.fail(m.pc, "context access not allowed: %s", msg)
		}
		return scalar, res, 0
	}
	if m.write {
		if m.val >= 0 && s.regs[m.val].kind != kScalar {
			e.fail(m.pc, "r%d is %s: only numbers may be stored into the context", m.val, s.regs[m.val])
		}
		return scalar, res, 0
	}
	switch f.Kind {
	case platform.FieldScalar:
		return scalar, res, 0
	case platform.FieldPadding:
		return scalar, constIval(0), 0
	}
	if m.sx {
		e.fail(m.pc, "sign-extending load of the pointer field %s.%s", desc.Name, f.Name)
		return scalar, res, 0
	}
	switch f.Kind {
	case platform.FieldPacketData:
		return value{kind: kPacket}, constIval(0), 0
	case platform.FieldPacketEnd:
		return value{kind: kPacketEnd}, topIval, 0
	case platform.FieldPacketMeta:
		return value{kind: kPacket}, topIval, locMeta
	}
	if f.Kind == platform.FieldBTFPointer && f.BTF.Type != 0 && e.a.opts.KernelTypes != nil {
		return value{kind: kBTF, region: int32(f.BTF.Type), null: f.BTF.MaybeNull, origin: int32(m.pc)}, constIval(0), 0
	}
	if f.Kind == platform.FieldFlowKeys && f.Target != nil {
		return flowKeysPointer(f.Target), constIval(0), 0
	}
	if v, ok := e.ctxSocket(f, m.pc); ok {
		return v, constIval(0), 0
	}
	// Other kernel objects: a pointer the program may pass
	// around but not dereference.
	return value{kind: kOpaque, null: f.Kind == platform.FieldSocketOrNull || f.Kind == platform.FieldSockCommonOrNull, origin: int32(m.pc)}, topIval, 0
}

// packetAccess checks a direct packet access against the proven size.
func (e *exec) packetAccess(s *state, m access) {
	pa := e.a.opts.Type.PacketAccess
	switch {
	case m.write && pa&platform.Write == 0:
		e.fail(m.pc, "%s programs may not write packet data directly", e.a.opts.Type)
		return
	case !m.write && pa&platform.Read == 0:
		e.fail(m.pc, "%s programs may not read packet data directly", e.a.opts.Type)
		return
	}
	l := locReg(m.base)
	// Lower end: off(base) + m.off >= meta.
	if low := s.z.ub(locMeta, l); low == inf || low > int64(m.off) {
		lo, _ := s.z.bounds(l)
		e.fail(m.pc, "packet %s of %s at offset %s may start before the packet (offset %d from r%d, which may be %d)",
			m.verb(), plural(m.size), e.offString(s, m), m.off, m.base, lo)
		return
	}
	// Upper end: off(base) + m.off + size <= pkt_size.
	need := int64(m.off + m.size)
	if up := s.z.ub(l, locPkt); up == inf || up > -need {
		proven := int64(0)
		if up != inf && up < math.MaxInt32 && up > -math.MaxInt32 {
			// Bytes proven from offset(base): -up.
			lo, hi := s.z.bounds(l)
			if lo == hi {
				proven = lo - up
			} else {
				proven = -up
			}
		} else if lo, _ := s.z.bounds(locPkt); lo > 0 {
			proven = lo
		}
		if proven < 0 {
			proven = 0
		}
		e.fail(m.pc, "packet %s of %s at offset %s: only %s proven", m.verb(), plural(m.size), e.offString(s, m), provenString(s, m, proven))
	}
}

func provenString(s *state, m access, proven int64) string {
	lo, hi := s.z.bounds(locReg(m.base))
	if lo == hi {
		return plural(int(proven))
	}
	return fmt.Sprintf("%s past r%d", plural(int(proven)), m.base)
}

func (e *exec) offString(s *state, m access) string {
	lo, hi := s.z.bounds(locReg(m.base))
	if lo == hi {
		return fmt.Sprint(lo + int64(m.off))
	}
	return fmt.Sprintf("r%d%+d with r%d in %s", m.base, m.off, m.base, ival{lo, hi, 0, math.MaxUint64}.signedString())
}

// boundedAccess checks an access to a region of known size.
func (e *exec) boundedAccess(s *state, m access, size int64, what string) {
	lo, hi := s.z.bounds(locReg(m.base))
	if lo == math.MinInt64 || hi == math.MaxInt64 || lo+int64(m.off) < 0 || hi+int64(m.off)+int64(m.size) > size {
		off := ival{lo, hi, 0, math.MaxUint64}
		var at string
		if lo == hi {
			at = fmt.Sprint(lo + int64(m.off))
		} else {
			at = fmt.Sprintf("%s%+d", off.signedString(), m.off)
		}
		e.fail(m.pc, "%s of %s at offset %s is outside the %d-byte %s", m.verb(), plural(m.size), at, size, what)
		return
	}
	if m.atomic && ((lo+int64(m.off))%int64(m.size) != 0 || (lo != hi && int(s.regs[m.base].tz) < bits.TrailingZeros(uint(m.size)))) {
		e.fail(m.pc, "atomic operation of %s at offset %s+%d may be misaligned", plural(m.size), ival{lo, hi, 0, 0}.signedString(), m.off)
	}
}

// stackAccess checks a stack access and updates the frame.
func (e *exec) stackAccess(s *state, m access) (value, ival, loc) {
	scalar := value{kind: kScalar}
	res := loadResult(m.size, m.sx)
	e.a.ctxUse[m.pc] |= 2
	bv := s.regs[m.base]
	fi := int(bv.region)
	if fi >= len(s.frames) {
		e.fail(m.pc, "r%d points into a stack frame that no longer exists", m.base)
		return scalar, res, 0
	}
	f := s.frames[fi]
	lo, hi := s.z.bounds(locReg(m.base))
	if lo == math.MinInt64 || hi == math.MaxInt64 || lo+int64(m.off) < -frameSize || hi+int64(m.off)+int64(m.size) > 0 {
		e.fail(m.pc, "stack %s of %s at r10%s is outside the %d-byte frame", m.verb(), plural(m.size), stackOff(lo, hi, m.off), frameSize)
		return scalar, res, 0
	}
	start, end := int(lo)+m.off, int(hi)+m.off+m.size // byte range [start, end) from r10
	if !stackAligned(start, bv.tz, lo != hi, m.size) {
		e.fail(m.pc, "misaligned stack %s of %s at r10%s: Linux requires stack accesses aligned to their size", m.verb(), plural(m.size), stackOff(lo, hi, m.off))
		return scalar, res, 0
	}
	e.a.frameUse(f.fn, start)
	if e.iterTouched(f, m.pc, start, end, "stack "+m.verb()) {
		return scalar, res, 0
	}
	if m.write {
		f = s.frameW(fi)
	}
	bs, be := start+frameSize, end+frameSize
	if lo != hi {
		// Variable offset.
		if m.atomic {
			e.fail(m.pc, "atomic operation on the stack at a variable offset r10%s", stackOff(lo, hi, m.off))
			return scalar, res, 0
		}
		if !m.write {
			if !f.init.all(bs, be) && !e.unwrittenRead(f, fi, bs, be) {
				e.fail(m.pc, "uninitialised stack read of %s at r10%s: not every byte in r10%+d..r10%+d is written%s", plural(m.size), stackOff(lo, hi, m.off), start, end, unwrittenWhy(f, bs, be))
			} else if f.ptr.any(bs, be) {
				e.fail(m.pc, "stack read of %s at r10%s may read part of a spilled pointer", plural(m.size), stackOff(lo, hi, m.off))
			}
			return scalar, res, 0
		}
		if m.val >= 0 && s.regs[m.val].kind.mayPoint() {
			e.fail(m.pc, "%s: it cannot be stored at a variable stack offset r10%s", e.pointerDesc(s, m.val), stackOff(lo, hi, m.off))
		}
		// Some of the bytes are written: spills there are gone, bytes that
		// were initialised stay so, pointer bytes may still be pointers.
		idx := f.overlapping(start, end-start)
		for _, i := range idx {
			s.z.forget(locSpill(fi, int(f.spill[i].off)))
		}
		f.remove(idx)
		return scalar, res, 0
	}
	if !m.write || m.atomic {
		// Exact spill?
		if i := f.find(start); i >= 0 && int(f.spill[i].size) == m.size && !m.atomic && !m.sx {
			sp := f.spill[i]
			if m.size == 8 || sp.v.kind == kScalar {
				return sp.v, ival{}, locSpill(fi, start)
			}
		}
		if !f.init.all(bs, be) && (m.atomic || !e.unwrittenRead(f, fi, bs, be)) {
			e.fail(m.pc, "uninitialised stack read of %s at r10%+d%s", plural(m.size), start, unwrittenWhy(f, bs, be))
			return scalar, res, 0
		}
		if f.ptr.any(bs, be) {
			e.fail(m.pc, "stack %s of %s at r10%+d reads part of a spilled pointer", m.verb(), plural(m.size), start)
			return scalar, res, 0
		}
		if m.atomic && start%m.size != 0 {
			e.fail(m.pc, "misaligned atomic operation at r10%+d", start)
		}
		// A narrower read of a spilled scalar from its start: its low
		// bytes (narrowfill.go).
		if i := f.find(start); i >= 0 && !m.atomic && !m.sx && f.spill[i].v.kind == kScalar && int(f.spill[i].size) > m.size {
			sp := f.spill[i]
			iv := s.ivalAt(locSpill(fi, start), sp.v)
			if iv.umax < 1<<(8*m.size) {
				return sp.v, ival{}, locSpill(fi, start) // the number itself
			}
			return scalar, lowBytes(iv, sp.v.tz, 8*m.size), 0
		}
		if !m.atomic && s.zeroBytes(f, fi, start, m.size) {
			return scalar, constIval(0), 0
		}
		if !m.atomic {
			return scalar, res, 0
		}
		// Atomic: the slot now holds an unknown number.
		idx := f.overlapping(start, m.size)
		for _, i := range idx {
			s.z.forget(locSpill(fi, int(f.spill[i].off)))
		}
		f.remove(idx)
		return scalar, res, 0
	}
	// Store at a known offset. A spill at the same offset keeps its
	// location when the new value has a number, which then resets it (in
	// place, where forgetting and adding it back would move the whole
	// matrix twice); it is forgotten on the way out otherwise.
	idx := f.overlapping(start, m.size)
	same, numbered := false, false
	for _, i := range idx {
		if int(f.spill[i].off) == start {
			same = true
			continue
		}
		s.z.forget(locSpill(fi, int(f.spill[i].off)))
	}
	if same {
		defer func() {
			if !numbered {
				s.z.forget(locSpill(fi, start))
			}
		}()
	}
	f.remove(idx)
	f.init.setRange(bs, be, true)
	f.ptr.setRange(bs, be, false)
	var sp *spill
	switch {
	case m.imm:
		imm := e.a.prog[m.pc].Imm
		v := uint64(int64(imm))
		if m.size < 8 {
			v &= 1<<(8*m.size) - 1
		}
		sp = &spill{off: int16(start), size: uint8(m.size), v: value{kind: kScalar, umin: v, umax: v}}
		f.insert(*sp)
		s.z.setBounds(locSpill(fi, start), int64(v), int64(v))
		numbered = true
	case m.val >= 0:
		v := s.regs[m.val]
		if v.kind.isPointer() && m.size != 8 {
			e.fail(m.pc, "r%d is a pointer (%s): a %s store would keep only part of it", m.val, v, plural(m.size))
			f.ptr.setRange(bs, be, true)
			return scalar, res, 0
		}
		if v.kind == kScalar && m.size < 8 {
			iv := s.ival(m.val)
			if iv.umax >= 1<<(8*m.size) {
				return scalar, res, 0 // truncated: plain data
			}
		}
		if v.kind == kMixed {
			f.ptr.setRange(bs, be, true)
			return scalar, res, 0
		}
		f.insert(spill{off: int16(start), size: uint8(m.size), v: v})
		if v.kind.hasOffset() {
			s.z.copyLoc(locSpill(fi, start), locReg(m.val))
			numbered = true
		}
		if v.kind.mayPoint() || v.kind == kInvalid {
			f.ptr.setRange(bs, be, true)
		}
	}
	return scalar, res, 0
}

// stackAligned reports whether a stack access of size bytes at r10+start
// (the lowest offset, when variable says the offset varies with tz known
// low zero bits) is aligned to its size on every path, as Linux requires
// of every load and store through a stack pointer (check_ptr_alignment:
// strict for the stack, whatever the architecture).
func stackAligned(start int, tz uint8, variable bool, size int) bool {
	if start%size != 0 {
		return false
	}
	return !variable || 1<<min(tz, 8) >= size
}

func stackOff(lo, hi int64, off int) string {
	if lo == hi {
		return fmt.Sprintf("%+d", lo+int64(off))
	}
	return fmt.Sprintf("%s%+d", ival{lo, hi, 0, 0}.signedString(), off)
}

// endsProgram checks an instruction that may end the whole program on the
// spot (what names it): no ring buffer record or spin lock may be held,
// and it may not run inside a callback, whose helper would go on.
func (e *exec) endsProgram(s *state, pc int, what string) {
	for _, id := range s.refs {
		e.fail(pc, "%s would leak %s: release it first", what, e.refDesc(id))
	}
	if s.lock {
		e.fail(pc, "%s cannot be used while a bpf_spin_lock is held", what)
	}
	if e.a.inCB > 0 {
		e.fail(pc, "%s is not allowed in a callback", what)
	}
}

// legacyLoad is LD_ABS / LD_IND: a packet load through the socket buffer in
// r6 that ends the program (returning 0) when out of bounds.
func (e *exec) legacyLoad(s *state, pc int, ins isa.Instruction) {
	t := e.a.opts.Type
	name := t.Name
	if name != "socket_filter" && name != "sched_cls" && name != "sched_act" {
		e.fail(pc, "legacy packet loads (LD_ABS/LD_IND) are not allowed in %s programs", t)
	}
	if v := s.regs[6]; v.kind != kCtx || !s.ival(6).isConst() || s.ival(6).umin != 0 {
		e.fail(pc, "legacy packet loads need the context in r6; %s", e.describe(s, 6))
	}
	if ins.Opcode.Mode() == isa.ModeIND {
		e.scalar(s, pc, int(ins.Src), "the offset of a legacy packet load")
	}
	// An out-of-bounds load ends the program where it stands: nothing
	// held may be left behind, and a callback cannot end its caller
	// (Linux refuses the first two too).
	e.endsProgram(s, pc, "a legacy packet load (LD_ABS/LD_IND), which ends the program when out of bounds,")
	for r := 1; r <= 5; r++ {
		s.setUninit(r)
	}
	size := ins.Opcode.Size().Bytes()
	s.set(0, value{kind: kScalar}, loadResult(size, false))
}

// constantLoad is the value a load reads from a map whose bytes are
// Constant (MapInfo), when the load's offset is a constant inside them, as
// Linux reads a frozen read-only map's bytes at verification
// (bpf_map_direct_read).
func constantLoad(mi *MapInfo, m access, lo, hi int64) (ival, bool) {
	if m.write || m.atomic || !mi.ReadOnlyProg || mi.Constant == nil || lo != hi {
		return ival{}, false
	}
	off := lo + int64(m.off)
	if off < 0 || off+int64(m.size) > int64(len(mi.Constant)) || off+int64(m.size) > int64(mi.ValueSize) {
		return ival{}, false
	}
	var buf [8]byte
	copy(buf[:], mi.Constant[off:off+int64(m.size)])
	v := binary.LittleEndian.Uint64(buf[:])
	if m.sx {
		shift := 64 - 8*uint(m.size)
		v = uint64(int64(v<<shift) >> shift)
	}
	return constIval(v), true
}
