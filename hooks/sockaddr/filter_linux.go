package sockaddr

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// The seccomp filter (classic BPF over struct seccomp_data). Offsets:
// nr at 0, arch at 4, args[i] at 16+8*i (low half first on little-endian).
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16
	offArg4 = 16 + 8*4

	auditArchX8664   = 0xc000003e
	auditArchAArch64 = 0xc00000b7
	x32SyscallBit    = 0x40000000
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

const (
	ldAbs  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	jeq    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jge    = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	jset   = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	retK   = unix.BPF_RET | unix.BPF_K
	notify = unix.SECCOMP_RET_USER_NOTIF
	allow  = unix.SECCOMP_RET_ALLOW
)

// trapWithArg4 traps system call nr when its fifth argument (an address
// pointer) is not NULL and allows it otherwise.
func trapWithArg4(nr uint32) []unix.SockFilter {
	return []unix.SockFilter{
		jump(jeq, nr, 0, 6),
		stmt(ldAbs, offArg4),
		jump(jeq, 0, 0, 3),
		stmt(ldAbs, offArg4+4),
		jump(jeq, 0, 0, 1),
		stmt(retK, allow),
		stmt(retK, notify),
	}
}

// filterFor builds the filter trapping the given operations: "connect",
// "bind", "send" (sendto with an address, sendmsg, sendmmsg), "send4"
// (with "send": sendto without an address too, for sendmsg4 programs; see
// worker.sendtoPeer),
// "getpeername", "getsockname", "recv" (recvfrom with an address buffer,
// recvmsg, recvmmsg) and "socket" (IPv4 and IPv6 only). Other
// ABIs of the architecture are killed (their syscall numbers would slip
// past the filter), and io_uring is refused with ENOSYS because its
// operations do not pass through seccomp.
func filterFor(ops []string) ([]unix.SockFilter, error) {
	var arch uint32
	switch runtime.GOARCH {
	case "amd64":
		arch = auditArchX8664
	case "arm64":
		arch = auditArchAArch64
	default:
		return nil, fmt.Errorf("%w: seccomp filter for %s", ErrNotSupported, runtime.GOARCH)
	}
	var trapped []uint32
	send, sendNull, create, fastopen, recv := false, false, false, false, false
	for _, op := range ops {
		switch op {
		case "connect":
			trapped = append(trapped, unix.SYS_CONNECT)
			fastopen = true
		case "bind":
			trapped = append(trapped, unix.SYS_BIND)
		case "getpeername":
			trapped = append(trapped, unix.SYS_GETPEERNAME)
		case "getsockname":
			trapped = append(trapped, unix.SYS_GETSOCKNAME)
		case "socket":
			create = true
		case "recv":
			trapped = append(trapped, unix.SYS_RECVMSG, unix.SYS_RECVMMSG)
			recv = true
		case "send":
			trapped = append(trapped, unix.SYS_SENDMSG, unix.SYS_SENDMMSG)
			send = true
		case "send4":
			sendNull = true
		case "":
		default:
			return nil, fmt.Errorf("unknown operation %q", op)
		}
	}
	f := []unix.SockFilter{
		stmt(ldAbs, offArch),
		jump(jeq, arch, 1, 0),
		stmt(retK, unix.SECCOMP_RET_KILL_PROCESS),
		stmt(ldAbs, offNr),
	}
	if runtime.GOARCH == "amd64" {
		f = append(f, jump(jge, x32SyscallBit, 0, 1), stmt(retK, unix.SECCOMP_RET_KILL_PROCESS))
	}
	f = append(f, jump(jeq, unix.SYS_IO_URING_SETUP, 0, 1), stmt(retK, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)))
	for _, nr := range trapped {
		f = append(f, jump(jeq, nr, 0, 1), stmt(retK, notify))
	}
	if send && sendNull {
		f = append(f, jump(jeq, unix.SYS_SENDTO, 0, 1), stmt(retK, notify))
	} else if send {
		// sendto traps only with a destination: its registers cannot change
		// under the call, so a NULL address stays NULL.
		f = append(f, trapWithArg4(unix.SYS_SENDTO)...)
	} else if fastopen {
		// TCP Fast Open connects in sendto/sendmsg/sendmmsg with
		// MSG_FASTOPEN (a flags register): the connect programs must see it.
		for _, c := range []struct{ nr, flagsArg uint32 }{
			{unix.SYS_SENDTO, 3}, {unix.SYS_SENDMSG, 2}, {unix.SYS_SENDMMSG, 3},
		} {
			f = append(f,
				jump(jeq, c.nr, 0, 4),
				stmt(ldAbs, offArg0+8*c.flagsArg),
				jump(jset, unix.MSG_FASTOPEN, 0, 1),
				stmt(retK, notify),
				stmt(retK, allow),
			)
		}
	}
	if recv {
		// recvfrom traps only with an address buffer (register 4), as
		// Linux runs the recvmsg programs only when it reports a source.
		f = append(f, trapWithArg4(unix.SYS_RECVFROM)...)
	}
	if create {
		// socket traps for IPv4 and IPv6 only, as inet_create runs the
		// sock_create programs.
		f = append(f,
			jump(jeq, unix.SYS_SOCKET, 0, 5),
			stmt(ldAbs, offArg0),
			jump(jeq, unix.AF_INET, 2, 0),
			jump(jeq, unix.AF_INET6, 1, 0),
			stmt(retK, allow),
			stmt(retK, notify),
		)
	}
	f = append(f, stmt(retK, allow))
	return f, nil
}
