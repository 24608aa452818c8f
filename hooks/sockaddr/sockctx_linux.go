package sockaddr

import (
	"encoding/binary"
	"unsafe"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/platform/linux"
	"golang.org/x/sys/unix"
)

// The socket behind a sock_addr program's ctx->sk and its options
// (docs/decisions/0038-sock-addr-socket.md): the supervisor holds a
// duplicate of the target's socket for the call, so it reads the fields of
// struct bpf_sock from the socket itself, and bpf_setsockopt and
// bpf_getsockopt act on it.

// fillSock fills sk, whose family, type and protocol are set, with what
// Linux's bpf_sock_convert_ctx_access reads from the socket: the bound
// device, mark, priority, the local and remote ends and the state. It
// costs a few system calls, so runHook calls it only when a program may
// read ctx->sk.
func (w *worker) fillSock(sk *linux.SockContext) {
	fd := w.sock.fd
	v, _ := getsockoptIntLevel(fd, unix.SOL_SOCKET, unix.SO_BINDTOIFINDEX)
	sk.BoundDevIf = uint32(v)
	v, _ = getsockoptIntLevel(fd, unix.SOL_SOCKET, unix.SO_MARK)
	sk.Mark = uint32(v)
	v, _ = getsockoptIntLevel(fd, unix.SOL_SOCKET, unix.SO_PRIORITY)
	sk.Priority = uint32(v)
	// A socket records no receive queue until a packet comes in (Linux's
	// NO_QUEUE_MAPPING reads as -1); user space cannot read the one it
	// records then.
	sk.RxQueueMapping = -1
	var local, remote [maxAddr]byte
	ll, rl := uint32(maxAddr), uint32(maxAddr)
	if _, _, e := unix.RawSyscall(unix.SYS_GETSOCKNAME, uintptr(fd), uintptr(unsafe.Pointer(&local[0])), uintptr(unsafe.Pointer(&ll))); e != 0 {
		ll = 0
	}
	if _, _, e := unix.RawSyscall(unix.SYS_GETPEERNAME, uintptr(fd), uintptr(unsafe.Pointer(&remote[0])), uintptr(unsafe.Pointer(&rl))); e != 0 {
		rl = 0
	}
	connected := rl > 0
	sk.State = unix.BPF_TCP_CLOSE
	switch {
	case w.sock.protocol == unix.IPPROTO_TCP:
		sk.State = w.tcpState()
	case connected:
		sk.State = unix.BPF_TCP_ESTABLISHED // a connected datagram socket
	}
	src, dst := inetAddr(local[:ll]), inetAddr(remote[:rl])
	if ll >= 4 {
		sk.SrcPort = uint32(binary.BigEndian.Uint16(local[2:4])) // host order in bpf_sock
	}
	if rl >= 4 {
		sk.DstPort = binary.NativeEndian.Uint16(remote[2:4]) // network order
	}
	bpfhost.SockAddresses(sk, src, dst)
}

// inetAddr returns the 16-byte address of a sockaddr_in (IPv4-mapped) or
// sockaddr_in6, or zeros.
func inetAddr(sa []byte) (a [16]byte) {
	switch {
	case len(sa) >= 8 && binary.NativeEndian.Uint16(sa) == unix.AF_INET:
		a[10], a[11] = 0xff, 0xff
		copy(a[12:], sa[4:8])
	case len(sa) >= 24 && binary.NativeEndian.Uint16(sa) == unix.AF_INET6:
		copy(a[:], sa[8:24])
	}
	return a
}

// tcpState returns the taken TCP socket's state (tcp_info's first byte).
func (w *worker) tcpState() uint32 {
	if w.sock.tcpState >= 0 {
		return uint32(w.sock.tcpState)
	}
	var state [1]byte
	l := uint32(1)
	if _, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(w.sock.fd), unix.IPPROTO_TCP, unix.TCP_INFO, uintptr(unsafe.Pointer(&state[0])), uintptr(unsafe.Pointer(&l)), 0); e != 0 {
		return unix.BPF_TCP_CLOSE
	}
	w.sock.tcpState = int(state[0])
	return uint32(state[0])
}

// Kind is the socket's family, type and protocol for bpf_setsockopt's
// checks, and whether an IPv6 socket is IPv6-only.
func (s *sock) Kind() (family, typ, protocol int, v6only bool) {
	if s.domain == unix.AF_INET6 {
		v, _ := getsockoptIntLevel(s.fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
		v6only = v != 0
	}
	return s.domain, s.typ, s.protocol, v6only
}

// SetOption is setsockopt(2) on the duplicate, the target's socket. What
// an option changes in struct bpf_sock (mark, priority, the bound device;
// IP_TOS sets the priority too) is shown by ctx->sk from then on, as
// Linux's pointer to the live socket shows it.
func (s *sock) SetOption(level, name int, val []byte) int64 {
	if len(val) == 0 {
		return -int64(unix.EINVAL)
	}
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(s.fd), uintptr(level), uintptr(name), uintptr(unsafe.Pointer(&val[0])), uintptr(len(val)), 0)
	if e == 0 {
		s.refresh() // IP_TOS sets the priority too
	}
	return -int64(e)
}

// refresh reads the socket into ctx->sk again after a helper changed it,
// if runHook filled it for a program.
func (s *sock) refresh() {
	if w := s.w; w != nil && w.skFilled {
		w.fillSock(w.sk)
	}
}

// GetOption is getsockopt(2) on the duplicate: the length written, or
// -errno.
func (s *sock) GetOption(level, name int, val []byte) int64 {
	if len(val) == 0 {
		return -int64(unix.EINVAL)
	}
	l := uint32(len(val))
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(s.fd), uintptr(level), uintptr(name), uintptr(unsafe.Pointer(&val[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return -int64(e)
	}
	return int64(min(int(l), len(val)))
}

// StorageID names the socket for sk storage maps: its cookie and inode.
func (s *sock) StorageID() bpfhost.SocketID {
	var st unix.Stat_t
	if unix.Fstat(s.fd, &st) != nil {
		st.Ino = 0 // a sweep keeps a value whose socket it cannot find
	}
	return bpfhost.SocketID{Cookie: s.Cookie(), Inode: st.Ino}
}

// StorageCreated records that a program gave the socket a value.
func (s *sock) StorageCreated() { s.storage = true }
