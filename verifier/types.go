package verifier

import (
	"fmt"
	"math"
	"math/bits"
)

// The type domain: what kind of thing a register or spilled stack slot
// holds. Numbers (a scalar's value, a pointer's offset into its region)
// are kept in the value's location in the zone and in its unsigned
// interval; a value here says only what those numbers mean.

// kind is a value's type.
type kind uint8

const (
	kUninit    kind = iota // never written (or clobbered by a call)
	kScalar                // a number
	kCtx                   // the context; offset from its start
	kStack                 // a stack frame (region = frame index); offset from its r10
	kPacket                // packet data; offset from data (meta pointers are negative)
	kPacketEnd             // data_end; no arithmetic
	kMapPtr                // a map (region = map id)
	kMapValue              // a map value of map region; offset from its start
	kRingbuf               // a ring buffer record of region bytes; offset from its start
	kFunc                  // the address of a BPF function starting at region
	kOpaque                // a pointer bpfhost cannot dereference (region: what)
	kSocket                // a socket: a lookup's (referenced: id) or a context field's (id 0); region: sockFull, sockCommon or sockTCP (socket.go, sockcommon.go)
	kPktLow32              // the low 32 bits of a packet pointer; its number is the offset (data_end: the packet size)
	kInvalid               // a pointer that is no longer valid (region: why)
	kMixed                 // different kinds on different paths
	kBTF                   // a kernel object typed by BTF (region = type ID); offset from its start (btfptr.go)
	kXDPSock               // an AF_XDP socket from an xskmap lookup (region = map id); no arithmetic (xdpsock.go)
	kIter                  // a live struct bpf_iter_num, only ever a stack spill (id: the reference; region: the last next call; null: may be drained; iter.go)
	kIterCur               // bpf_iter_num_next's result: the iterator's int (region: the iterator's reference); read-only, no arithmetic (iter.go)
	kFlowKeys              // a flow dissector's struct bpf_flow_keys (region: its size); offset from its start (flowkeys.go)
)

var kindNames = [...]string{"uninit", "scalar", "ctx", "stack", "packet", "packet_end", "map_ptr", "map_value", "ringbuf_mem", "func", "opaque", "socket", "pkt_low32", "invalid", "mixed", "btf_ptr", "xdp_sock", "iter_num", "iter_num_value", "flow_keys"}

func (k kind) String() string { return kindNames[k] }

// hasOffset reports whether a value of the kind keeps a number in its
// location.
func (k kind) hasOffset() bool {
	switch k {
	case kScalar, kCtx, kStack, kPacket, kMapValue, kRingbuf, kPktLow32, kBTF, kFlowKeys:
		return true
	}
	return false
}

// isRef reports whether a value of the kind is a reference the program
// holds (its id is the reference, state.refs): a ring buffer record or a
// socket from a lookup.
func (k kind) isRef() bool { return k == kRingbuf || k == kSocket }

func (k kind) isPointer() bool {
	return k >= kCtx && k <= kPktLow32 || k == kBTF || k == kXDPSock || k == kIter || k == kIterCur || k == kFlowKeys
}

// mayPoint reports whether a value of the kind may be a pointer on some
// path: every rule that keeps addresses from leaking (stores to memory
// other than the stack, helper number arguments, return values) applies
// to it. A mixed value is a pointer on at least one path.
// A BTF pointer is no host address bpfhost handed out (btfptr.go): its
// value is the caller's number or data loaded from memory the run may read.
func (k kind) mayPoint() bool { return k.isPointer() && k != kBTF || k == kMixed }

// Reasons a pointer became invalid (value.region of kInvalid).
const (
	invPacketChanged = iota // a helper that changes the packet was called
	invReleased             // the ring buffer record was submitted or discarded
	invDeadFrame            // it pointed into a function's stack that returned
	invJoinedRecords        // one of two ring buffer records, released separately
	invSockReleased         // the socket was released with bpf_sk_release
	invJoinedSockets        // one of two referenced sockets, released separately
	invJoinedIters          // one of two iterators made at different calls
)

// value is one register's or stack slot's abstract value. (Fields are
// ordered to keep it small: states copy many of them.)
type value struct {
	// region qualifies the kind: map id, frame index, function start,
	// record size, invalidation reason.
	region int32
	// id ties copies of one maybe-NULL pointer together, so that checking
	// one checks all; for ring buffer records it is also the reference
	// that must be released. 0 means none.
	id int32
	// origin is the instruction that produced the pointer (for messages).
	origin int32
	kind   kind
	// null: the pointer may be NULL (map values, ring buffer records,
	// opaque pointers), until a comparison with 0 tells.
	null bool
	// tz is how many low bits of the number (a scalar's value, a
	// pointer's offset) are known to be 0: alignment and strides.
	tz uint8
	// umin and umax are the unsigned bounds of a scalar; the signed
	// bounds are in the zone.
	umin, umax uint64
}

var uninit = value{kind: kUninit}

func (v value) String() string {
	switch v.kind {
	case kScalar, kUninit, kMixed:
		return v.kind.String()
	case kMapPtr, kMapValue:
		s := fmt.Sprintf("%s(map %d)", v.kind, v.region)
		if v.null {
			s += "_or_null"
		}
		return s
	case kStack:
		return fmt.Sprintf("stack(frame %d)", v.region)
	case kRingbuf:
		s := fmt.Sprintf("ringbuf_mem(%d bytes)", v.region)
		if v.null {
			s += "_or_null"
		}
		return s
	case kSocket:
		s := "socket"
		switch v.region {
		case sockCommon:
			s = "sock_common"
		case sockTCP:
			s = "tcp_sock"
		}
		if v.null {
			s += "_or_null"
		}
		return s
	case kFunc:
		return fmt.Sprintf("func(%d)", v.region)
	case kBTF:
		return fmt.Sprintf("btf_ptr(type %d)", v.region)
	case kIter:
		if v.null {
			return "iter_num(may be drained)"
		}
		return "iter_num"
	}
	if v.null {
		return v.kind.String() + "_or_null"
	}
	return v.kind.String()
}

// joinKinds joins the type parts of two values: the kind, region, null
// and id. ok is false when the result cannot keep a number (it is
// uninitialised, mixed or invalid). zeroA and zeroB say whether each side
// is the scalar 0, which joins with a maybe-NULL pointer.
func joinTypes(a, b value, zeroA, zeroB bool, merge func(k kind, x, y int32) int32) (value, bool) {
	switch {
	case a.kind == kUninit || b.kind == kUninit:
		return uninit, false
	case a.kind == kInvalid:
		return a, false
	case b.kind == kInvalid:
		return b, false
	}
	if a.kind == kRingbuf && b.kind == kRingbuf && a.id != b.id {
		// Either of two records: releasing one would leave a copy of the
		// other usable (or the reverse), so it cannot be used at all.
		return value{kind: kInvalid, region: invJoinedRecords, origin: max(a.origin, b.origin)}, false
	}
	if a.kind == kSocket && b.kind == kSocket && a.id != b.id {
		// The same for two referenced sockets.
		return value{kind: kInvalid, region: invJoinedSockets, origin: max(a.origin, b.origin)}, false
	}
	if a.kind == kIter && b.kind == kIter {
		return joinIters(a, b), true
	}
	if a.kind == b.kind && a.region == b.region {
		r := a
		r.null = a.null || b.null
		if a.id != b.id {
			r.id = 0
		}
		if a.origin != b.origin && b.origin > a.origin {
			r.origin = b.origin
		}
		if a.kind == kScalar {
			r.umin, r.umax = min(a.umin, b.umin), max(a.umax, b.umax)
		}
		r.tz = min(a.tz, b.tz)
		return r, a.kind.hasOffset()
	}
	// Values of different maps: a value of either.
	if a.kind == kMapValue && b.kind == kMapValue && merge != nil {
		r := a
		r.region = merge(kMapValue, a.region, b.region)
		r.null = a.null || b.null
		r.id = 0
		r.tz = min(a.tz, b.tz)
		return r, true
	}
	// Pointers to different maps: a pointer to either (mapjoin.go). Copies
	// of one maybe-NULL inner map pointer keep their id.
	if a.kind == kMapPtr && b.kind == kMapPtr && merge != nil {
		r := a
		r.region = merge(kMapPtr, a.region, b.region)
		r.null = a.null || b.null
		if a.id != b.id {
			r.id = 0
		}
		r.origin = max(a.origin, b.origin)
		return r, false
	}
	// NULL on one side, a pointer that may be NULL on the other. A packet
	// pointer joined with NULL (a header pointer set on one path only) is
	// a packet pointer that may be NULL: it must be checked before any use
	// (memory.go, transfer.go, branch.go refuse a maybe-NULL one), and its
	// offset joins the NULL side's 0, which only weakens what is known.
	nullable := func(p value) bool {
		return p.kind == kMapValue || p.kind == kRingbuf || p.kind == kOpaque || p.kind == kMapPtr || p.kind == kPacket || p.kind == kSocket || p.kind == kXDPSock || p.kind == kIterCur
	}
	// A BTF pointer may be NULL (or wild) anyway: loads through it read
	// 0 then (btfptr.go), so joining it with NULL keeps it as it is.
	if zeroA && b.kind == kBTF {
		return b, true
	}
	if zeroB && a.kind == kBTF {
		return a, true
	}
	if zeroA && nullable(b) {
		r := b
		r.null = true
		if !b.kind.isRef() {
			r.id = 0
		}
		return r, b.kind.hasOffset()
	}
	if zeroB && nullable(a) {
		r := a
		r.null = true
		if !a.kind.isRef() {
			r.id = 0
		}
		return r, a.kind.hasOffset()
	}
	return value{kind: kMixed}, false
}

// tzOf returns the number of trailing zero bits of a constant (64 for 0).
func tzOf(v uint64) uint8 { return uint8(bits.TrailingZeros64(v)) }

// align rounds an interval's bounds to multiples of 2^tz.
func (v ival) align(tz uint8) ival {
	if tz == 0 || tz >= 63 || v.empty() {
		return v
	}
	m := uint64(1)<<tz - 1
	if v.umin&m != 0 {
		if v.umin > math.MaxUint64-m {
			return ival{1, 0, 1, 0}
		}
		v.umin = (v.umin + m) &^ m
	}
	v.umax &^= m
	sm := int64(m)
	if v.smin != math.MinInt64 && v.smin&sm != 0 {
		if v.smin > math.MaxInt64-sm {
			return ival{1, 0, 1, 0}
		}
		v.smin = (v.smin + sm) &^ sm
	}
	if v.smax != math.MaxInt64 {
		v.smax &^= sm
	}
	return v.norm()
}
