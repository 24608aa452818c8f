package verifier

import (
	"bytes"
	"math"

	"github.com/bpfhost/bpfhost/platform"
)

// Helper calls: arguments are checked against the prototype, memory
// arguments against their regions, and the call's effects applied (r0 per
// the return kind, r1-r5 clobbered, records acquired and released, packet
// pointers invalidated, callbacks analysed).

// helperMapOps says which map operation a helper performs on its map
// argument (names are the ABI's).
var helperMapOps = map[string]platform.MapOps{
	"bpf_map_lookup_elem":        platform.MapLookup,
	"bpf_map_update_elem":        platform.MapUpdate,
	"bpf_map_delete_elem":        platform.MapDelete,
	"bpf_map_push_elem":          platform.MapPush,
	"bpf_map_pop_elem":           platform.MapPop,
	"bpf_map_peek_elem":          platform.MapPeek,
	"bpf_map_lookup_percpu_elem": platform.MapLookupPercpu,
	"bpf_for_each_map_elem":      platform.MapForEach,
	"bpf_tail_call":              platform.MapTailCall,
	"bpf_redirect_map":           platform.MapRedirect,
	"bpf_perf_event_output":      platform.MapPerfOutput,
	"bpf_ringbuf_output":         platform.MapRingbuf,
	"bpf_ringbuf_reserve":        platform.MapRingbuf,
	"bpf_ringbuf_query":          platform.MapRingbuf,
	"bpf_get_stackid":            platform.MapStackID,
	"bpf_get_local_storage":      platform.MapLocalStorage,
	"bpf_timer_init":             platform.MapTimer,
}

type memMode uint8

const (
	memRead  memMode = iota // the helper reads initialised bytes
	memWrite                // the helper fills the bytes
	memRW                   // both
)

func (e *exec) clobberCall(s *state) {
	for r := 0; r <= 5; r++ {
		s.regs[r] = uninit
	}
	s.z.forgetRange(locReg(0), locReg(5)) // setUninit of each, at once
}

// corePoison is the helper number libbpf (and object.RelocatedCORE) calls
// in place of an instruction whose CO-RE relocation has no target.
const corePoison = 0xbad2310

func (e *exec) helper(s *state, pc int, id int32) (*state, error) {
	proto, ok := e.a.opts.Type.HelperProto(e.a.opts.ABI, platform.HelperID(id))
	if !ok {
		if id == corePoison {
			e.fail(pc, "call to unknown helper %d: a CO-RE relocation that the target's BTF cannot satisfy (a missing type or field), reachable here", id)
		} else {
			e.fail(pc, "call to unknown helper %d", id)
		}
		e.clobberCall(s)
		s.set(0, value{kind: kScalar}, topIval)
		return s, nil
	}
	name := proto.Name
	t := e.a.opts.Type
	if !t.Helpers.Has(proto.ID) {
		e.fail(pc, "helper %s is not allowed in %s programs", name, t)
	}
	if proto.GPLOnly {
		e.gplOnly(pc, "call of the GPL-only helper %s", name)
	}
	if proto.MightSleep {
		e.mightSleep(pc, name)
	}
	if s.lock && name != "bpf_spin_unlock" {
		e.fail(pc, "helper %s is called while a bpf_spin_lock is held", name)
	}
	if name == "bpf_tail_call" {
		// A tail call that is taken never comes back.
		e.endsProgram(s, pc, name)
		e.a.tailCall = true
		// In a subprogram, a taken tail call returns from it (tailsub.go).
		e.tailCallReturn(s, pc)
	}
	var (
		mapArg    *MapInfo
		mapID     int32 = -1
		allocSize int64 = -1
		fnArg           = -1
		cbArg     value
		cbLoc     loc
		cbIval    ival
		release   int32
		loopCount ival
		// memMax: the largest size of the last memory argument
		// (retrange.go); -1 if none.
		memMax  int64 = -1
		lockArg value
		// keyFound: a lookup whose key is an index of the array
		// (constkey.go).
		keyFound bool
	)
	n := proto.NumArgs()
	for i := 0; i < n; i++ {
		r := i + 1
		k := proto.Args[i]
		v := s.regs[r]
		if k != platform.ArgAnything || i < 5 {
			if !e.readable(s, pc, r) {
				continue
			}
		}
		isNull := v.kind == kScalar && s.ival(r).isConst() && s.ival(r).umin == 0
		switch k {
		case platform.ArgAnything:
			if v.kind.mayPoint() {
				e.fail(pc, "%s passed to %s where a number is expected", e.pointerDesc(s, r), name)
			}
			if i == 0 && proto.Callback == platform.CallbackLoop {
				// A number's range bounds the calls (the helper takes its
				// low 32 bits, never more). Anything else passed as a
				// number (a BTF pointer, whose interval is its offset, not
				// its value) may be any count.
				loopCount = topIval
				if v.kind == kScalar {
					loopCount = s.ival(r)
				}
			}
		case platform.ArgAddress:
			e.addressArg(s, pc, r, proto)
		case platform.ArgConstMapPtr:
			if v.kind != kMapPtr || v.null {
				e.fail(pc, "%s needs a map in r%d; %s", name, r, e.describe(s, r))
				continue
			}
			mapID, mapArg = v.region, e.a.maps[v.region]
			e.a.noteMapArg(pc, v)
			e.checkMapOp(pc, name, mapID)
			if proto.Callback != platform.CallbackNone && e.a.joinedMapPtr(mapID) {
				e.fail(pc, "%s on one of the maps %s (joined paths): its callback needs to know which", name, mapArg.Name)
				mapID, mapArg = -1, nil
			}
		case platform.ArgMapKey, platform.ArgMapValue, platform.ArgMapValueOrNull, platform.ArgUninitMapValue:
			if mapArg == nil {
				e.fail(pc, "%s: r%d needs the map argument to be valid", name, r)
				continue
			}
			size := int64(mapArg.KeySize)
			what := "key"
			mode := memRead
			if k != platform.ArgMapKey {
				size, what = int64(mapArg.ValueSize), "value"
			}
			if k == platform.ArgUninitMapValue {
				mode = memWrite
				if e.anyMapOfType(mapID, "bloom_filter") {
					mode = memRead // a bloom filter's peek tests the value it is given
				}
			}
			if k == platform.ArgMapValueOrNull && isNull {
				continue
			}
			e.memArg(s, pc, r, size, size, mode, proto, "map "+mapArg.Name+" "+what)
			if k == platform.ArgMapKey && name == "bpf_map_lookup_elem" {
				keyFound = e.inBoundsArrayKey(s, r, mapID)
			}
		case platform.ArgMem, platform.ArgMemOrNull, platform.ArgWritableMem, platform.ArgUninitMem, platform.ArgWritableMemOrNull:
			sz := e.sizeArg(s, pc, r+1, proto.Args[i+1], name)
			i++
			if isNull && (k == platform.ArgMemOrNull || k == platform.ArgWritableMemOrNull) {
				if sz.umax != 0 {
					e.fail(pc, "r%d is NULL but the size in r%d may be %s", r, r+1, sz)
				}
				continue
			}
			mode := memRead
			switch k {
			case platform.ArgWritableMem:
				mode = memRW
			case platform.ArgUninitMem, platform.ArgWritableMemOrNull:
				mode = memWrite
			}
			e.memArg(s, pc, r, int64(sz.umin), satU(sz.umax), mode, proto, "memory")
			memMax = satU(sz.umax)
		case platform.ArgConstSize, platform.ArgConstSizeOrZero:
			e.sizeArg(s, pc, r, k, name)
		case platform.ArgConstAllocSizeOrZero:
			iv := s.ival(r)
			if !e.scalar(s, pc, r, "sizes are numbers") {
				continue
			}
			if !iv.isConst() || iv.umax > 1<<29 {
				e.fail(pc, "%s: the size in r%d must be a known constant, not %s", name, r, iv)
				continue
			}
			allocSize = int64(iv.umin)
		case platform.ArgFixedMem:
			e.memArg(s, pc, r, int64(proto.ArgSize[i]), int64(proto.ArgSize[i]), memRead, proto, "memory")
		case platform.ArgCtx, platform.ArgCtxOrNull:
			if k == platform.ArgCtxOrNull && isNull {
				continue
			}
			if v.kind != kCtx || !s.ival(r).isConst() || s.ival(r).umin != 0 {
				e.fail(pc, "%s needs the unmodified context pointer in r%d; %s", name, r, e.describe(s, r))
			}
		case platform.ArgLong:
			e.memArg(s, pc, r, 8, 8, memWrite, proto, "memory")
		case platform.ArgInt:
			// Read as well as written: bpf_check_mtu takes *mtu_len as
			// its input and leaves it as it was when it fails (XDP with
			// flags, an unknown device), as Linux does, so the bytes
			// must hold no part of a pointer before the call either.
			e.memArg(s, pc, r, 4, 4, memRW, proto, "memory")
		case platform.ArgConstStr:
			if v.kind != kMapValue || v.null || !e.a.maps[v.region].ReadOnlyProg {
				e.fail(pc, "%s needs a string in read-only global data in r%d; %s", name, r, e.describe(s, r))
				continue
			}
			e.memArg(s, pc, r, 1, 1, memRead, proto, "string")
			e.constString(s, pc, r, name)
		case platform.ArgFunc:
			if v.kind != kFunc {
				e.fail(pc, "%s needs a function (a callback) in r%d; %s", name, r, e.describe(s, r))
				continue
			}
			fnArg = int(v.region)
		case platform.ArgStackOrNull:
			if !isNull && v.kind != kStack {
				e.fail(pc, "%s needs a stack pointer or NULL in r%d; %s", name, r, e.describe(s, r))
				continue
			}
			cbArg, cbLoc = v, locReg(r)
			cbIval = s.ival(r)
		case platform.ArgRingbufMem:
			if v.kind != kRingbuf || v.null {
				if v.kind == kRingbuf {
					e.fail(pc, "r%d may be NULL: it comes from %s; check it before %s", r, e.origin(v), name)
				} else {
					e.fail(pc, "%s needs a ring buffer record from bpf_ringbuf_reserve in r%d; %s", name, r, e.describe(s, r))
				}
				continue
			}
			if iv := s.ival(r); !iv.isConst() || iv.umin != 0 {
				e.fail(pc, "%s needs the record pointer itself in r%d, not an offset %s into it", name, r, iv.signedOnly())
			}
			release = v.id
		case platform.ArgBTFSockCommon:
			if id := e.socketArg(s, pc, r, proto); id != 0 {
				release = id
			}
		case platform.ArgSpinLock, platform.ArgTimer:
			size := int64(4)
			if k == platform.ArgTimer {
				size = 16
			}
			if v.kind != kMapValue || v.null {
				e.fail(pc, "%s needs a pointer into a map value in r%d; %s", name, r, e.describe(s, r))
				continue
			}
			if iv := s.ival(r); !iv.isConst() {
				e.fail(pc, "%s needs a constant offset into the map value in r%d", name, r)
				continue
			}
			if k == platform.ArgSpinLock {
				e.spinLockArg(s, pc, r, name)
				lockArg = v
				continue
			}
			if !e.timerArg(s, pc, r, name) {
				continue
			}
			e.memArg(s, pc, r, size, size, memRW, proto, "map value")
			if proto.Callback == platform.CallbackTimer {
				mapID = e.timerCallbackMap(pc, v.region, name)
			}
		case platform.ArgBTFID:
			e.btfArg(s, pc, r, proto.ArgKernelStruct[i], proto)
		case platform.ArgSockCommon:
			e.sockCommonArg(s, pc, r, proto)
		default:
			e.fail(pc, "%s takes a %s argument in r%d, which bpfhost does not support", name, k, r)
		}
	}

	// Effects.
	if proto.Callback != platform.CallbackNone && fnArg >= 0 {
		var err error
		s, err = e.callback(s, pc, proto, fnArg, cbArg, cbLoc, cbIval, mapID, loopCount)
		if err != nil || s == nil {
			return s, err
		}
	}
	if proto.Release > 0 && release != 0 && proto.Args[proto.Release-1] == platform.ArgBTFSockCommon {
		e.releaseSocket(s, pc, release)
	} else if proto.Release > 0 && release != 0 {
		if !s.hasRef(release) {
			e.fail(pc, "%s releases a ring buffer record that is not held", name)
		}
		s.dropRef(release)
		s.invalidate(func(v value) bool { return v.kind == kRingbuf && v.id == release }, invReleased, pc)
	}
	switch name {
	case "bpf_spin_lock":
		if s.lock {
			e.fail(pc, "bpf_spin_lock while a lock is already held")
		}
		s.lock = true
		owner, ok := e.ownerOf(lockArg)
		if lockArg.kind != kMapValue {
			owner, ok = lockUnknown, true // the argument was reported
		}
		if !ok {
			e.fail(pc, "bpf_spin_lock: r1 may point into one of several elements of map %s (joined paths): which lock is taken, and so released, is unknown", e.a.maps[lockArg.region].Name)
			owner = lockUnknown
		}
		s.lockOf = owner
	case "bpf_spin_unlock":
		owner, ok := e.ownerOf(lockArg)
		switch {
		case !s.lock:
			e.fail(pc, "bpf_spin_unlock without a held lock")
		case s.lockOf == lockUnknown:
			e.fail(pc, "bpf_spin_unlock: a lock is held on some paths only, or different locks on different paths")
		case lockArg.kind == kMapValue && (!ok || owner != s.lockOf):
			e.fail(pc, "bpf_spin_unlock of a different lock than the one held (another map element, or one the analysis cannot tell is the same)")
		}
		s.lock = false
		s.lockOf = lockOwner{}
	}
	if proto.ChangesPacket {
		// 32-bit copies of packet pointers too: their numbers are offsets
		// from the packet's old start.
		s.invalidate(func(v value) bool { return v.kind == kPacket || v.kind == kPacketEnd || v.kind == kPktLow32 }, invPacketChanged, pc)
		s.z.setBounds(locPkt, 0, int64(s.a.opts.Type.PacketSizeLimit()))
		s.z.setBounds(locMeta, -255, 0)
	}
	e.clobberCall(s)

	// The result.
	fresh := func(k kind, region int32, null bool) value {
		idv := callValueID(pc, s.depth())
		// Older values from this call site lose their link to the new one.
		s.eachValue(func(l loc, x *value) {
			if x.id == idv && !x.kind.isRef() {
				x.id = 0
			}
		})
		return value{kind: k, region: region, null: null, id: idv, origin: int32(pc)}
	}
	switch proto.Ret {
	case platform.RetInteger:
		iv := topIval
		switch name {
		case "bpf_get_prandom_u32", "bpf_get_smp_processor_id", "bpf_get_numa_node_id":
			iv = u32Ival
		}
		if r, ok := sizedReturn(name, memMax); ok {
			iv = r
		}
		s.set(0, value{kind: kScalar}, iv)
	case platform.RetVoid:
	case platform.RetMapValueOrNull, platform.RetMapValue:
		null := proto.Ret == platform.RetMapValueOrNull && !keyFound
		if mapArg == nil {
			e.fail(pc, "%s returns a map value but has no map argument", name)
			s.set(0, value{kind: kScalar}, topIval)
			break
		}
		lookup, id, why := e.lookupResult(name, mapID)
		if why != "" {
			e.fail(pc, "%s", why)
			s.set(0, value{kind: kScalar}, topIval)
			break
		}
		switch lookup {
		case platform.LookupInnerMap:
			s.set(0, fresh(kMapPtr, id, null), topIval)
		case platform.LookupXDPSock:
			s.set(0, fresh(kXDPSock, id, null), topIval)
		default:
			s.set(0, fresh(kMapValue, id, null), constIval(0))
		}
	case platform.RetRingbufMemOrNull:
		if allocSize < 0 {
			s.set(0, value{kind: kScalar}, topIval)
			break
		}
		v := fresh(kRingbuf, int32(allocSize), true)
		if s.hasRef(v.id) {
			e.fail(pc, "%s reserves a record while the one it reserved before is still held", name)
		}
		s.addRef(v.id)
		s.set(0, v, constIval(0))
	case platform.RetSocketOrNull, platform.RetSockCommonOrNull, platform.RetTCPSockOrNull:
		if proto.Acquire {
			e.socketResult(s, pc, proto, fresh)
			break
		}
		if v, ok := e.socketView(pc, proto); ok {
			s.set(0, v, topIval)
			break
		}
		s.set(0, fresh(kOpaque, int32(proto.Ret), true), topIval)
	default:
		if proto.Acquire {
			e.fail(pc, "%s returns a referenced kernel object, which bpfhost does not support", name)
		}
		if v, ok := e.btfReturn(pc, proto); ok {
			s.set(0, v, constIval(0))
			break
		}
		s.set(0, fresh(kOpaque, int32(proto.Ret), true), topIval)
	}
	return s, nil
}

// sizeArg checks a size argument and returns its range.
func (e *exec) sizeArg(s *state, pc, r int, k platform.ArgKind, name string) ival {
	if !e.readable(s, pc, r) || !e.scalar(s, pc, r, "sizes are numbers") {
		return constIval(0)
	}
	iv := s.ival(r)
	if iv.umax >= 1<<29 {
		e.fail(pc, "%s: the size in r%d is not bounded (%s)", name, r, iv)
		return urange(iv.umin, 1<<29)
	}
	if k == platform.ArgConstSize && iv.umin == 0 {
		e.fail(pc, "%s: the size in r%d may be 0", name, r)
	}
	return iv
}

// addressArg checks the source of a bpf_probe_read_* call (register r; the
// size is in r2). A number is any address: the helper reads only memory the
// run owns and fails elsewhere. A pointer is allowed as in Linux, but what
// the helper copies must not carry host data the program could not load
// itself: a pointer into the stack, a map value or a ring buffer record is
// checked as a read of r2's bytes there (written stack bytes, in bounds, no
// lock word); a context pointer only where the context is flat data, every
// field a number at Linux's offset (tracing contexts), since other contexts
// hold host pointers at run time.
func (e *exec) addressArg(s *state, pc, r int, proto *platform.HelperProto) {
	v := s.regs[r]
	switch {
	case !v.kind.mayPoint():
		return
	case v.kind == kCtx:
		if !flatContext(e.a.opts.Type.Context) {
			e.fail(pc, "%s may read the context through r%d only where it holds no pointers; %s programs' context does", proto.Name, r, e.a.opts.Type)
		}
		return
	}
	// r2 was checked as the destination's size; an unbounded one is
	// reported there already.
	if sz := s.ival(2); sz.umax < 1<<29 {
		e.memArg(s, pc, r, int64(sz.umin), satU(sz.umax), memRead, proto, "memory")
	}
}

// flatContext reports whether a context is plain numbers laid out as in
// Linux, so that its bytes at run time are what the program could load.
func flatContext(d *platform.ContextDescriptor) bool {
	if d == nil {
		return false
	}
	for _, f := range d.Fields {
		if f.Kind != platform.FieldScalar {
			return false
		}
	}
	if d.Host == nil {
		return true
	}
	for _, f := range d.Fields {
		h, ok := d.Host.Field(f.Name)
		if !ok || h.Offset != f.Offset || h.Size != f.Size {
			return false
		}
	}
	return d.Host.Size == d.Size
}

// memArg checks that register r points to [lo, hi] bytes (hi the largest
// size) the helper may read or write, and records what it writes.
func (e *exec) memArg(s *state, pc, r int, lo, hi int64, mode memMode, proto *platform.HelperProto, what string) {
	v := s.regs[r]
	if hi == 0 {
		return
	}
	if v.null {
		e.fail(pc, "r%d may be NULL: it comes from %s; check it before passing it to %s", r, e.origin(v), proto.Name)
		return
	}
	off := s.ival(r)
	write := mode != memRead
	switch v.kind {
	case kStack:
		fi := int(v.region)
		if fi >= len(s.frames) {
			e.fail(pc, "r%d points into a stack frame that no longer exists", r)
			return
		}
		f := s.frames[fi]
		if off.smin < -frameSize || off.smax+hi > 0 || off.smax > 0 {
			e.fail(pc, "%s: %s of %d bytes at r10%s (r%d) is outside the %d-byte stack frame", proto.Name, what, hi, stackOff(off.smin, off.smax, 0), r, frameSize)
			return
		}
		start, end := int(off.smin), int(off.smax+hi)
		e.a.frameUse(f.fn, start)
		if e.iterTouched(f, pc, start, end, proto.Name+"'s "+what) {
			return
		}
		if write {
			f = s.frameW(fi)
		}
		bs, be := start+frameSize, end+frameSize
		if mode != memWrite {
			if !f.init.all(bs, be) && !e.unwrittenRead(f, fi, bs, be) {
				first := bs
				for first < be && f.init.get(first) {
					first++
				}
				e.fail(pc, "%s reads uninitialised stack: %s of %d bytes at r10%+d, byte r10%+d is not written%s", proto.Name, what, hi, start, first-frameSize, unwrittenWhy(f, bs, be))
			} else if f.ptr.any(bs, be) {
				e.fail(pc, "%s would read part of a spilled pointer in %s at r10%+d", proto.Name, what, start)
			}
		}
		if write {
			idx := f.overlapping(start, end-start)
			for _, i := range idx {
				s.z.forget(locSpill(fi, int(f.spill[i].off)))
			}
			f.remove(idx)
			if off.isConst() {
				f.init.setRange(bs, bs+int(lo), true)
				f.ptr.setRange(bs, bs+int(lo), false)
			}
		}
	case kPacket:
		if !proto.PacketAccess {
			e.fail(pc, "%s may not take packet pointers (r%d)", proto.Name, r)
			return
		}
		if write && e.a.opts.Type.PacketAccess&platform.Write == 0 {
			e.fail(pc, "%s would write packet data, which %s programs may not", proto.Name, e.a.opts.Type)
			return
		}
		e.packetAccess(s, access{pc: pc, base: r, off: 0, size: int(hi), write: write})
	case kMapValue:
		mi := e.a.maps[v.region]
		if write && mi.ReadOnlyProg {
			e.fail(pc, "%s would write read-only map %s", proto.Name, mi.Name)
		}
		if mode != memWrite && mi.WriteOnlyProg {
			e.fail(pc, "%s would read map %s, which programs may only write (BPF_F_WRONLY_PROG)", proto.Name, mi.Name)
		}
		e.boundedAccess(s, access{pc: pc, base: r, size: int(hi), write: write}, int64(mi.ValueSize), "map "+mi.Name+" value")
		lo, hi2 := s.z.bounds(locReg(r))
		e.checkLockWord(pc, v.region, lo, hi2, 0, int(hi), proto.Name+"'s "+what)
	case kRingbuf:
		e.boundedAccess(s, access{pc: pc, base: r, size: int(hi), write: write}, int64(v.region), "ring buffer record")
	default:
		e.fail(pc, "%s needs %s in r%d; %s", proto.Name, what, r, e.describe(s, r))
	}
	_ = math.MaxInt64
}

// constString checks that the string a helper's ARG_PTR_TO_CONST_STR
// argument in register r points to ends within its map value, as Linux
// does: the map's bytes must be frozen (MapInfo.Constant), the offset
// constant, and a NUL must follow it in the value. The helpers read up to
// the NUL: without one, they read on into the next values of the map
// (and a map user space may still write can lose its NUL at any time).
func (e *exec) constString(s *state, pc, r int, name string) {
	mi := e.a.maps[s.regs[r].region]
	off := s.ival(r)
	switch {
	case mi.Constant == nil:
		e.fail(pc, "%s needs a string in frozen read-only data in r%d; map %s's bytes may change after verification", name, r, mi.Name)
	case !off.isConst():
		e.fail(pc, "%s needs a string at a constant offset of map %s's value in r%d, not %s", name, mi.Name, r, off)
	case off.umin < uint64(len(mi.Constant)) && off.umin < uint64(mi.ValueSize):
		end := min(uint64(len(mi.Constant)), uint64(mi.ValueSize))
		if bytes.IndexByte(mi.Constant[off.umin:end], 0) < 0 {
			e.fail(pc, "%s: the string at offset %d of map %s's value (r%d) is not NUL-terminated within the value", name, off.umin, mi.Name, r)
		}
	}
}
