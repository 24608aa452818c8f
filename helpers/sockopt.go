package helpers

import (
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func init() {
	register(linux.FnSetsockopt, func(*impl) vm.Helper { return setsockoptHelper })
	register(linux.FnGetsockopt, func(*impl) vm.Helper { return getsockoptHelper })
}

// SocketOptions is implemented by a Socket whose options a program may set
// and read with bpf_setsockopt and bpf_getsockopt (sock_addr hooks, which
// hold the real socket: docs/decisions/0038-sock-addr-socket.md). The
// helpers check the level, option and length as Linux's __bpf_setsockopt
// and __bpf_getsockopt do before they call these.
type SocketOptions interface {
	// Kind returns the socket's family, type and protocol, and whether
	// an IPv6 socket is IPv6-only (IPV6_V6ONLY).
	Kind() (family, typ, protocol int, v6only bool)
	// SetOption sets an option as setsockopt(2) does; 0 or -errno.
	SetOption(level, name int, val []byte) int64
	// GetOption reads an option into val as getsockopt(2) does and returns
	// the length written, or -errno.
	GetOption(level, name int, val []byte) int64
}

// Levels and options Linux's bpf_setsockopt accepts (net/core/filter.c,
// sol_*_sockopt), with Linux's numbers (asm-generic/socket.h, in.h, in6.h,
// tcp.h).
const (
	solSocket = 1
	solIP     = 0
	solIPv6   = 41
	solTCP    = 6

	soReuseAddr      = 2
	soSndBuf         = 7
	soRcvBuf         = 8
	soKeepAlive      = 9
	soPriority       = 12
	soReusePort      = 15
	soRcvLowat       = 18
	soBindToDevice   = 25
	soMark           = 36
	soMaxPacingRate  = 47
	soBindToIfindex  = 62
	soTxRehash       = 74
	ipTOS            = 1
	ipv6TClass       = 67
	ipv6AutoFlowLbl  = 70
	tcpNoDelay       = 1
	tcpMaxSeg        = 2
	tcpKeepIdle      = 4
	tcpKeepIntvl     = 5
	tcpKeepCnt       = 6
	tcpSynCnt        = 7
	tcpWindowClamp   = 10
	tcpCongestion    = 13
	tcpThinLinearTO  = 16
	tcpUserTimeout   = 18
	tcpNotSentLowat  = 25
	tcpSaveSyn       = 27
	tcpSavedSyn      = 28
	tcpBPFCbFlags    = 1008 // TCP_BPF_SOCK_OPS_CB_FLAGS
	sockRaw          = 3
	ipprotoTCPNumber = 6
)

// sockoptCheck is Linux's check of a bpf_setsockopt or bpf_getsockopt call
// before it reaches the socket: 0 if the option goes to the socket, else
// the helper's result. Options Linux handles inside the helper on kernel
// fields user space cannot reach (TCP_BPF_*, TCP_SAVED_SYN, which a
// getsockopt(2) would free) are -EOPNOTSUPP: not supported.
func sockoptCheck(s SocketOptions, level, name, optlen int, get bool) int64 {
	family, typ, proto, v6only := s.Kind()
	intLen := func() int64 {
		if optlen != 4 {
			return eINVAL
		}
		return 0
	}
	switch level {
	case solSocket:
		switch name {
		case soReuseAddr, soSndBuf, soRcvBuf, soKeepAlive, soPriority, soReusePort, soRcvLowat, soMark,
			soMaxPacingRate, soBindToIfindex, soTxRehash:
			return intLen()
		case soBindToDevice:
			if get {
				return eINVAL
			}
			return 0
		}
	case solIP:
		// sk_allows_sol_ip_sockopt: IPv6 sockets that may carry IPv4.
		if family != afInet && (family != afInet6 || typ == sockRaw || v6only) {
			return eINVAL
		}
		if name == ipTOS {
			return intLen()
		}
	case solIPv6:
		if family != afInet6 {
			return eINVAL
		}
		if name == ipv6TClass || name == ipv6AutoFlowLbl {
			return intLen()
		}
	case solTCP:
		if proto != ipprotoTCPNumber {
			return eINVAL
		}
		switch name {
		case tcpNoDelay, tcpMaxSeg, tcpKeepIdle, tcpKeepIntvl, tcpKeepCnt, tcpSynCnt, tcpWindowClamp,
			tcpThinLinearTO, tcpUserTimeout, tcpNotSentLowat, tcpSaveSyn:
			return intLen()
		case tcpCongestion:
			if optlen < 2 {
				return eINVAL
			}
			return 0
		case tcpSavedSyn:
			if optlen < 1 {
				return eINVAL
			}
			return eOPNOTSUPP
		case tcpBPFCbFlags:
			if r := intLen(); r != 0 {
				return r
			}
			return eOPNOTSUPP
		}
		if get {
			return eINVAL
		}
		return eOPNOTSUPP // the other TCP_BPF_* options
	}
	return eINVAL
}

// sockoptSocket returns the run's socket if its options can be used.
func sockoptSocket(rc *vm.RunContext) SocketOptions {
	s, _ := socketOf(rc).(SocketOptions)
	return s
}

// setsockoptHelper is bpf_setsockopt(ctx, level, optname, optval, optlen)
// of sock_addr programs: the option is set on the socket the context
// describes, with the supervisor's rights (Linux lets programs set what the
// task could not: sockopt_ns_capable is true in a program).
func setsockoptHelper(rc *vm.RunContext, _, level, name, val, size uint64) (uint64, error) {
	size = uint64(uint32(size))
	if err := rc.CheckArg(val, size, false); err != nil {
		return 0, argErr("bpf_setsockopt", "optval", err)
	}
	s := sockoptSocket(rc)
	if s == nil {
		return ret(eINVAL), nil
	}
	l, n, optlen := int(int32(level)), int(int32(name)), int(int32(size))
	if r := sockoptCheck(s, l, n, optlen, false); r != 0 {
		return ret(r), nil
	}
	b := vm.Bytes(val, optlen)
	if l == solTCP && n == tcpCongestion && optlen >= 3 && string(b[:3]) == "cdg" {
		return ret(eNOTSUPP), nil // Linux refuses cdg from programs
	}
	return ret(s.SetOption(l, n, b)), nil
}

// getsockoptHelper is bpf_getsockopt(ctx, level, optname, optval, optlen):
// the option's value in optval, zero-filled past what the option holds
// and entirely on an error, as __bpf_getsockopt leaves it.
func getsockoptHelper(rc *vm.RunContext, _, level, name, val, size uint64) (uint64, error) {
	size = uint64(uint32(size))
	if err := rc.CheckArg(val, size, true); err != nil {
		return 0, argErr("bpf_getsockopt", "optval", err)
	}
	b := vm.Bytes(val, int(size))
	r := int64(eINVAL)
	if s := sockoptSocket(rc); s != nil {
		l, n := int(int32(level)), int(int32(name))
		r = sockoptCheck(s, l, n, len(b), true)
		if r == 0 {
			w := b
			if l == solTCP && n == tcpCongestion {
				// Linux hands programs a NUL-terminated name.
				w = b[:len(b)-1]
			}
			r = s.GetOption(l, n, w)
			if r >= 0 {
				clear(b[r:])
				return 0, nil
			}
		}
	}
	clear(b)
	return ret(r), nil
}
