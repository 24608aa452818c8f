package verifier

import (
	"strings"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// Referenced sockets (docs/decisions/0025-socket-lookups.md): the socket
// lookup helpers (bpf_sk_lookup_tcp, _udp, bpf_skc_lookup_tcp) return a
// socket or NULL and acquire a reference, as bpf_ringbuf_reserve does for
// a record: the value's id is the reference (state.refs), a NULL check
// drops it on the NULL branch, bpf_sk_release drops it and invalidates
// every copy, and an exit (or anything that ends the program) with a
// reference held is refused, as Linux refuses it ("Unreleased reference").
// A non-NULL socket may be read at the constant offsets and widths of the
// struct the helper's prototype describes (RetStruct: struct bpf_sock, or
// its sock_common part), never written, never moved by arithmetic.

// Regions of kSocket values: which view of struct bpf_sock the pointer
// gives.
const (
	sockFull   = 0 // PTR_TO_SOCKET
	sockCommon = 1 // PTR_TO_SOCK_COMMON
	sockTCP    = 2 // PTR_TO_TCP_SOCK (sockcommon.go)
)

// socketResult sets r0 to the socket a lookup helper returns: a new
// reference, NULL until checked. fresh makes the value (helper's).
func (e *exec) socketResult(s *state, pc int, proto *platform.HelperProto, fresh func(k kind, region int32, null bool) value) {
	region := int32(sockFull)
	if proto.Ret == platform.RetSockCommonOrNull {
		region = sockCommon
	}
	if proto.RetStruct == nil {
		e.fail(pc, "%s returns a socket whose layout the platform does not describe", proto.Name)
		s.set(0, value{kind: kScalar}, topIval)
		return
	}
	e.a.sockView[region] = proto.RetStruct
	v := fresh(kSocket, region, true)
	if s.hasRef(v.id) {
		e.fail(pc, "%s looks up a socket while the one it returned before is still held: release it first", proto.Name)
	}
	s.addRef(v.id)
	s.set(0, v, topIval)
}

// ctxSocket is the value of a context field that points to a socket whose
// struct the platform describes (f.Target): bpf_sock_addr.sk, sk_msg_md.sk,
// ... (docs/decisions/0038-sock-addr-socket.md). It is Linux's
// PTR_TO_SOCKET (PTR_TO_SOCK_COMMON, _OR_NULL as the field says): readable
// as the view allows, never written, and not a reference, so
// bpf_sk_release refuses it as Linux does ("must be referenced"). ok is
// false for a field that is no socket or whose layout is unknown.
func (e *exec) ctxSocket(f *platform.ContextField, pc int) (value, bool) {
	region := int32(sockFull)
	switch f.Kind {
	case platform.FieldSocket, platform.FieldSocketOrNull:
	case platform.FieldSockCommonOrNull:
		region = sockCommon
	default:
		return value{}, false
	}
	if f.Target == nil {
		return value{}, false
	}
	if v := e.a.sockView[region]; v != nil && v != f.Target {
		// Another view of the same region (never with Linux's tables:
		// lookups return the descriptors the context fields name).
		return value{}, false
	}
	e.a.sockView[region] = f.Target
	return value{kind: kSocket, region: region, null: f.Kind != platform.FieldSocket, origin: int32(pc)}, true
}

// socketArg checks a socket argument in register r (ArgBTFSockCommon):
// a socket from a lookup, checked against NULL. It returns the reference
// the helper releases, if its prototype releases that argument.
func (e *exec) socketArg(s *state, pc, r int, proto *platform.HelperProto) int32 {
	v := s.regs[r]
	switch {
	case v.kind == kSocket && v.null:
		e.fail(pc, "r%d may be NULL: it comes from %s; check it before %s", r, e.origin(v), proto.Name)
		return 0
	case v.kind != kSocket:
		e.fail(pc, "%s needs a socket from bpf_sk_lookup_tcp, bpf_sk_lookup_udp or bpf_skc_lookup_tcp in r%d; %s", proto.Name, r, e.describe(s, r))
		return 0
	}
	if proto.Release != r {
		return 0
	}
	if v.id == 0 {
		e.fail(pc, "%s needs a socket from bpf_sk_lookup_tcp, bpf_sk_lookup_udp or bpf_skc_lookup_tcp in r%d: %s from %s is not a reference (Linux: must be referenced)", proto.Name, r, v, e.origin(v))
		return 0
	}
	if !s.hasRef(v.id) {
		e.fail(pc, "%s releases a socket that is not held", proto.Name)
		return 0
	}
	return v.id
}

// releaseSocket drops the reference id and invalidates every copy of the
// socket.
func (e *exec) releaseSocket(s *state, pc int, id int32) {
	s.dropRef(id)
	s.invalidate(func(v value) bool { return v.kind == kSocket && v.id == id }, invSockReleased, pc)
}

// socketAccess checks a load or store through a socket pointer (not NULL):
// loads of the fields the struct's view allows, at their widths; nothing
// is written.
func (e *exec) socketAccess(s *state, m access) (value, ival, loc) {
	return e.readOnlyAccess(s, m, e.a.sockView[s.regs[m.base].region], "the socket is read-only")
}

// readOnlyAccess checks a load through a pointer to the read-only struct
// d (nil: unknown) at the offsets and widths d allows; a write is refused
// with the reason readOnly.
func (e *exec) readOnlyAccess(s *state, m access, d *platform.ContextDescriptor, readOnly string) (value, ival, loc) {
	scalar := value{kind: kScalar}
	res := loadResult(m.size, m.sx)
	e.a.ctxUse[m.pc] |= 2
	bv := s.regs[m.base]
	switch {
	case m.atomic || m.write:
		e.fail(m.pc, "%s through r%d, %s: %s", m.verb(), m.base, bv, readOnly)
		return scalar, res, 0
	case m.sx:
		e.fail(m.pc, "sign-extending load through r%d, %s: load the field as it is", m.base, bv)
		return scalar, res, 0
	case d == nil:
		e.fail(m.pc, "read through r%d, %s, whose layout is unknown", m.base, bv)
		return scalar, res, 0
	}
	if _, err := d.Check(m.off, m.size, false); err != nil {
		e.fail(m.pc, "read through r%d, %s: %s", m.base, bv, strings.TrimPrefix(err.Error(), platform.ErrContextAccess.Error()+": "))
	}
	return scalar, res, 0
}

// refDesc names the reference id for messages: the record or socket and
// the call that acquired it.
func (e *exec) refDesc(id int32) string {
	if e.refIsIter(id) {
		return e.iterRefDesc(id)
	}
	pc := int(id-1) & (1<<22 - 1)
	if e.refIsSocket(id) {
		return "the socket " + e.helperAt(pc) + " returned at " + e.a.where(pc)
	}
	return "the ring buffer record reserved at " + e.a.where(pc)
}

// refIsSocket reports whether the reference id was acquired by a socket
// lookup (not a ring buffer reservation).
func (e *exec) refIsSocket(id int32) bool {
	pc := int(id-1) & (1<<22 - 1)
	if pc < 0 || pc >= len(e.a.prog) {
		return false
	}
	ins := e.a.prog[pc]
	if ins.Opcode != isa.OpCall || ins.Src != isa.CallHelper {
		return false
	}
	p, ok := e.a.opts.ABI.HelperByID(platform.HelperID(ins.Imm))
	return ok && p.Acquire && (p.Ret == platform.RetSocketOrNull || p.Ret == platform.RetSockCommonOrNull)
}

// helperAt names the helper the call at pc calls.
func (e *exec) helperAt(pc int) string {
	return e.a.opts.ABI.HelperName(platform.HelperID(e.a.prog[pc].Imm))
}

// unreleased is the message for a reference id still held where the
// program ends.
func (e *exec) unreleased(id int32) string {
	if e.refIsIter(id) {
		return e.refDesc(id) + " is not destroyed on some path (Unreleased reference): call bpf_iter_num_destroy on every path"
	}
	if e.refIsSocket(id) {
		return e.refDesc(id) + " is not released on some path (Unreleased reference): call bpf_sk_release on every path where it is not NULL"
	}
	return e.refDesc(id) + " is neither submitted nor discarded on some path"
}
