package verifier

import "github.com/bpfhost/bpfhost/platform"

// Sockets seen through another view: bpf_sk_fullsock, bpf_tcp_sock and
// bpf_get_listener_sock take a socket (ARG_PTR_TO_SOCK_COMMON: a struct
// bpf_sock_common, bpf_sock or bpf_tcp_sock pointer, checked against
// NULL; __sk_buff.sk is the common case) and return a view of it, or
// NULL (RET_PTR_TO_SOCKET_OR_NULL, RET_PTR_TO_TCP_SOCK_OR_NULL), read as
// the view's struct allows (socketAccess). Linux ties the view of a
// referenced socket (a lookup's) to its reference, so that releasing the
// socket invalidates the view; bpfhost does not, and refuses a view of a
// referenced socket. The socket of a context field lives as long as the
// program runs: its views need no reference.

// sockCommonArg checks a socket argument in register r that any view of a
// socket will do for.
func (e *exec) sockCommonArg(s *state, pc, r int, proto *platform.HelperProto) {
	v := s.regs[r]
	switch {
	case v.kind != kSocket:
		e.fail(pc, "%s needs a socket in r%d; %s", proto.Name, r, e.describe(s, r))
	case v.null:
		e.fail(pc, "r%d may be NULL: it comes from %s; check it before %s", r, e.origin(v), proto.Name)
	case v.id != 0 && returnsSocketView(proto):
		e.fail(pc, "%s of %s from %s: bpfhost does not tie a view of a referenced socket to its reference (Linux does); pass a socket from the context", proto.Name, v, e.origin(v))
	}
}

// returnsSocketView reports whether the helper returns a view of its
// socket argument (not a new reference).
func returnsSocketView(p *platform.HelperProto) bool {
	switch p.Ret {
	case platform.RetSocketOrNull, platform.RetSockCommonOrNull, platform.RetTCPSockOrNull:
		return !p.Acquire
	}
	return false
}

// socketView is what a helper returning a view of its socket argument
// returns: a socket of the view its prototype describes (RetStruct),
// maybe NULL, not a reference; ok is false where the view is unknown.
func (e *exec) socketView(pc int, proto *platform.HelperProto) (value, bool) {
	if proto.RetStruct == nil {
		return value{}, false
	}
	region := int32(sockFull)
	switch proto.Ret {
	case platform.RetSockCommonOrNull:
		region = sockCommon
	case platform.RetTCPSockOrNull:
		region = sockTCP
	}
	if d := e.a.sockView[region]; d != nil && d != proto.RetStruct {
		return value{}, false // another view of the same region
	}
	e.a.sockView[region] = proto.RetStruct
	return value{kind: kSocket, region: region, null: true, origin: int32(pc)}, true
}
