package sockaddr

import (
	"encoding/binary"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// runFilter interprets the classic BPF subset filterFor emits over a
// struct seccomp_data.
func runFilter(t *testing.T, f []unix.SockFilter, arch uint32, nr int, args [6]uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], uint32(nr))
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(f); pc++ {
		in := f[pc]
		switch in.Code {
		case ldAbs:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case jeq, jge, jset:
			taken := (in.Code == jeq && acc == in.K) || (in.Code == jge && acc >= in.K) || (in.Code == jset && acc&in.K != 0)
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case retK:
			return in.K
		default:
			t.Fatalf("instruction %d: code %#x", pc, in.Code)
		}
	}
	t.Fatal("fell off the filter")
	return 0
}

func TestFilter(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("syscall numbers of amd64")
	}
	const errnoENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	addr := uint64(0x7000_0000_1000)
	for _, tc := range []struct {
		ops  []string
		nr   int
		args [6]uint64
		want uint32
	}{
		{[]string{"connect"}, unix.SYS_CONNECT, [6]uint64{3, addr, 16}, notify},
		{[]string{"connect"}, unix.SYS_BIND, [6]uint64{3, addr, 16}, allow},
		{[]string{"connect"}, unix.SYS_WRITE, [6]uint64{1}, allow},
		{[]string{"connect"}, unix.SYS_IO_URING_SETUP, [6]uint64{}, errnoENOSYS},
		{[]string{"connect"}, 0x40000000 + unix.SYS_CONNECT, [6]uint64{}, unix.SECCOMP_RET_KILL_PROCESS},
		// Fast Open connects in a send: trapped by its flag only.
		{[]string{"connect"}, unix.SYS_SENDTO, [6]uint64{3, addr, 2, unix.MSG_FASTOPEN, addr, 16}, notify},
		{[]string{"connect"}, unix.SYS_SENDTO, [6]uint64{3, addr, 2, 0, addr, 16}, allow},
		{[]string{"connect"}, unix.SYS_SENDMSG, [6]uint64{3, addr, unix.MSG_FASTOPEN}, notify},
		{[]string{"connect"}, unix.SYS_SENDMSG, [6]uint64{3, addr, 0}, allow},
		{[]string{"connect"}, unix.SYS_SENDMMSG, [6]uint64{3, addr, 2, unix.MSG_FASTOPEN}, notify},
		{[]string{"bind"}, unix.SYS_BIND, [6]uint64{3, addr, 16}, notify},
		{[]string{"bind"}, unix.SYS_CONNECT, [6]uint64{3, addr, 16}, allow},
		// recvfrom traps only with an address buffer (either half
		// non-zero); recvmsg and recvmmsg always (msg_name is in memory).
		{[]string{"recv"}, unix.SYS_RECVFROM, [6]uint64{3, addr, 64, 0, 0, addr}, allow},
		{[]string{"recv"}, unix.SYS_RECVFROM, [6]uint64{3, addr, 64, 0, addr, addr}, notify},
		{[]string{"recv"}, unix.SYS_RECVFROM, [6]uint64{3, addr, 64, 0, 1 << 32, addr}, notify},
		{[]string{"recv"}, unix.SYS_RECVMSG, [6]uint64{3, addr, 0}, notify},
		{[]string{"recv"}, unix.SYS_RECVMMSG, [6]uint64{3, addr, 2, 0, 0}, notify},
		{[]string{"recv"}, unix.SYS_SENDTO, [6]uint64{3, addr, 2, 0, addr, 16}, allow},
		{[]string{"send", "recv"}, unix.SYS_RECVFROM, [6]uint64{3, addr, 64, 0, addr, addr}, notify},
		{[]string{"send", "recv"}, unix.SYS_SENDTO, [6]uint64{3, addr, 2, 0, addr, 16}, notify},
		{[]string{"connect"}, unix.SYS_RECVMSG, [6]uint64{3, addr, 0}, allow},
		// sendto traps only with an address (either half non-zero).
		{[]string{"send"}, unix.SYS_SENDTO, [6]uint64{3, addr, 2, 0, 0, 0}, allow},
		{[]string{"send"}, unix.SYS_SENDTO, [6]uint64{3, addr, 2, 0, addr, 16}, notify},
		{[]string{"send"}, unix.SYS_SENDTO, [6]uint64{3, addr, 2, 0, 1 << 40, 16}, notify},
		// With sendmsg4 programs ("send4"), sendto without an address
		// too; write still passes.
		{[]string{"send", "send4"}, unix.SYS_SENDTO, [6]uint64{3, addr, 2, 0, 0, 0}, notify},
		{[]string{"send", "send4"}, unix.SYS_SENDTO, [6]uint64{3, addr, 2, 0, addr, 16}, notify},
		{[]string{"send", "send4"}, unix.SYS_WRITE, [6]uint64{3, addr, 2}, allow},
		{[]string{"send"}, unix.SYS_SENDMSG, [6]uint64{3, addr, 0}, notify},
		{[]string{"send"}, unix.SYS_SENDMMSG, [6]uint64{3, addr, 1, 0}, notify},
		{[]string{"connect", "send"}, unix.SYS_CONNECT, [6]uint64{3, addr, 16}, notify},
		{[]string{"socket"}, unix.SYS_SOCKET, [6]uint64{unix.AF_INET, unix.SOCK_STREAM}, notify},
		{[]string{"socket"}, unix.SYS_SOCKET, [6]uint64{unix.AF_INET6, unix.SOCK_DGRAM}, notify},
		{[]string{"socket"}, unix.SYS_SOCKET, [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM}, allow},
		{[]string{"getpeername", "getsockname"}, unix.SYS_GETSOCKNAME, [6]uint64{3, addr, addr}, notify},
		{[]string{"getpeername"}, unix.SYS_GETSOCKNAME, [6]uint64{3, addr, addr}, allow},
	} {
		f, err := filterFor(tc.ops)
		if err != nil {
			t.Fatal(err)
		}
		if got := runFilter(t, f, auditArchX8664, tc.nr, tc.args); got != tc.want {
			t.Errorf("%v: syscall %d %x = %#x, want %#x", tc.ops, tc.nr, tc.args, got, tc.want)
		}
	}
	f, _ := filterFor([]string{"connect"})
	if got := runFilter(t, f, 0x40000003 /* i386 */, unix.SYS_WRITE, [6]uint64{}); got != unix.SECCOMP_RET_KILL_PROCESS {
		t.Errorf("i386 syscall: %#x, want kill", got)
	}
	if _, err := filterFor([]string{"listen"}); err == nil {
		t.Error("unknown operation accepted")
	}
}
