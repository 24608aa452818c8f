package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Client operations for the corner cases of sockets that a demanding user
// meets (exec_edge_linux_test.go's tests): each takes its arguments from
// the front of args and returns its outcome and the remaining arguments.
var edgeOps = map[string]func(args []string) (string, []string){
	"udp-connect":  udpConnect,
	"udp-sendto":   udpSendto,
	"udp-csendto":  udpConnectedSendto,
	"tcp-again":    tcpAgain,
	"sendsrc":      sendSource,
	"sendmmsg-bad": sendManyPartial,
}

// rawSockaddr encodes "1.2.3.4:5" as a sockaddr_in, "[::1]:5" as a
// sockaddr_in6 and "unspec" as a sockaddr_in6 of family AF_UNSPEC.
func rawSockaddr(s string) []byte {
	if s == "unspec" {
		return make([]byte, unix.SizeofSockaddrInet6)
	}
	ap := netip.MustParseAddrPort(s)
	if ap.Addr().Is4() {
		b := make([]byte, unix.SizeofSockaddrInet4)
		binary.LittleEndian.PutUint16(b, unix.AF_INET)
		binary.BigEndian.PutUint16(b[2:], ap.Port())
		a := ap.Addr().As4()
		copy(b[4:], a[:])
		return b
	}
	b := make([]byte, unix.SizeofSockaddrInet6)
	binary.LittleEndian.PutUint16(b, unix.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], ap.Port())
	a := ap.Addr().As16()
	copy(b[8:], a[:])
	return b
}

// sockFamily is "4" or "6".
func sockFamily(s string) int {
	if s == "6" {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

func rawConnect(fd int, sa []byte) error {
	_, _, e := syscall.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	if e != 0 {
		return e
	}
	return nil
}

func rawSendto(fd int, p []byte, sa []byte) error {
	var ap uintptr
	if len(sa) > 0 {
		ap = uintptr(unsafe.Pointer(&sa[0]))
	}
	_, _, e := syscall.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), 0, ap, uintptr(len(sa)))
	if e != 0 {
		return e
	}
	return nil
}

func outcome(err error, ok string) string {
	if err != nil {
		return errName(err)
	}
	return ok
}

// udpConnect: FAMILY ADDR. A UDP socket of FAMILY connects to ADDR (of its
// own family), sends without an address, disconnects (AF_UNSPEC) and sends
// again without an address.
func udpConnect(args []string) (string, []string) {
	fd, err := unix.Socket(sockFamily(args[0]), unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err), args[2:]
	}
	defer unix.Close(fd)
	res := []string{outcome(rawConnect(fd, rawSockaddr(args[1])), "connected")}
	res = append(res, outcome(rawSendto(fd, []byte(datagramTag+"connected"), nil), "sent"))
	unspec := make([]byte, unix.SizeofSockaddrInet4)
	res = append(res, outcome(rawConnect(fd, unspec), "disconnected"))
	res = append(res, outcome(rawSendto(fd, []byte(datagramTag+"disconnected"), nil), "sent"))
	return strings.Join(res, " "), args[2:]
}

// udpSendto: FAMILY ADDR. A UDP socket of FAMILY sends to ADDR.
func udpSendto(args []string) (string, []string) {
	fd, err := unix.Socket(sockFamily(args[0]), unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err), args[2:]
	}
	defer unix.Close(fd)
	return outcome(rawSendto(fd, []byte(datagramTag+"sendto"), rawSockaddr(args[1])), "sent"), args[2:]
}

// udpConnectedSendto: FAMILY PEER ADDR. A UDP socket of FAMILY connects to
// PEER and sends to ADDR ("unspec": an address of family AF_UNSPEC, which
// IPv6 sockets take as none).
func udpConnectedSendto(args []string) (string, []string) {
	fd, err := unix.Socket(sockFamily(args[0]), unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err), args[3:]
	}
	defer unix.Close(fd)
	if err := rawConnect(fd, rawSockaddr(args[1])); err != nil {
		return "connect " + errName(err), args[3:]
	}
	switch args[2] {
	case "none": // send(2)
		return outcome(rawSendto(fd, []byte(datagramTag+"csendto"), nil), "sent"), args[3:]
	case "null": // sendmsg(2) with msg_name NULL
		_, err := unix.SendmsgN(fd, []byte(datagramTag+"csendmsg"), nil, nil, 0)
		return outcome(err, "sent"), args[3:]
	}
	return outcome(rawSendto(fd, []byte(datagramTag+"csendto"), rawSockaddr(args[2])), "sent"), args[3:]
}

// tcpAgain: ADDR. A non-blocking TCP connect, a second connect at once
// (EALREADY or EISCONN, depending on how far the handshake went: "again"),
// a third once it is connected (EISCONN), then the server's answer.
func tcpAgain(args []string) (string, []string) {
	sa := rawSockaddr(args[0])
	fam := unix.AF_INET
	if len(sa) > unix.SizeofSockaddrInet4 {
		fam = unix.AF_INET6
	}
	fd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return errName(err), args[1:]
	}
	defer unix.Close(fd)
	res := []string{outcome(rawConnect(fd, sa), "connected")}
	if err := rawConnect(fd, sa); err == unix.EALREADY || err == unix.EISCONN {
		res = append(res, "again")
	} else {
		res = append(res, outcome(err, "connected"))
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	unix.Poll(pfd, 5000)
	res = append(res, outcome(rawConnect(fd, sa), "connected"))
	unix.SetNonblock(fd, false)
	b := make([]byte, 16)
	k, _ := unix.Read(fd, b)
	res = append(res, strings.TrimSpace(string(b[:max(k, 0)])))
	return strings.Join(res, " "), args[1:]
}

// sendSource: FAMILY BIND. A UDP socket of FAMILY, bound to BIND unless it
// is "-", sends to a receiver on 127.0.0.1 (IPv4-mapped for IPv6), which
// prints the datagram's source address.
func sendSource(args []string) (string, []string) {
	rest := args[2:]
	rx, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err), rest
	}
	defer unix.Close(rx)
	if err := unix.Bind(rx, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return errName(err), rest
	}
	unix.SetsockoptTimeval(rx, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
	local, err := unix.Getsockname(rx)
	if err != nil {
		return errName(err), rest
	}
	port := local.(*unix.SockaddrInet4).Port
	fam := sockFamily(args[0])
	fd, err := unix.Socket(fam, unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err), rest
	}
	defer unix.Close(fd)
	if args[1] != "-" {
		if err := rawBind(fd, rawSockaddr(args[1])); err != nil {
			return "bind " + errName(err), rest
		}
	}
	to := fmt.Sprintf("127.0.0.1:%d", port)
	if fam == unix.AF_INET6 {
		to = fmt.Sprintf("[::ffff:127.0.0.1]:%d", port)
	}
	if err := rawSendto(fd, []byte("src"), rawSockaddr(to)); err != nil {
		return errName(err), rest
	}
	b := make([]byte, 16)
	_, from, err := unix.Recvfrom(rx, b, 0)
	if err != nil {
		return "receive " + errName(err), rest
	}
	return "from " + netip.AddrFrom4(from.(*unix.SockaddrInet4).Addr).String(), rest
}

func rawBind(fd int, sa []byte) error {
	_, _, e := syscall.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	if e != 0 {
		return e
	}
	return nil
}

// sendManyPartial: ADDR. One sendmmsg of two datagrams, the first to ADDR,
// the second to port 0 (EINVAL): it returns 1, and each msg_len.
func sendManyPartial(args []string) (string, []string) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err), args[1:]
	}
	defer unix.Close(fd)
	good, bad := rawSockaddr(args[0]), rawSockaddr("127.0.0.1:0")
	type mmsghdr struct {
		hdr unix.Msghdr
		n   uint32
		_   [4]byte
	}
	payload := []byte(datagramTag + "partial")
	iov := unix.Iovec{Base: &payload[0], Len: uint64(len(payload))}
	var msgs [2]mmsghdr
	for i, sa := range [][]byte{good, bad} {
		msgs[i].hdr = unix.Msghdr{Name: &sa[0], Namelen: uint32(len(sa)), Iov: &iov, Iovlen: 1}
		msgs[i].n = 99
	}
	r, _, e := syscall.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), 2, 0, 0, 0)
	if e != 0 {
		return errName(e), args[1:]
	}
	return fmt.Sprintf("sent %d: %d %d", r, msgs[0].n, msgs[1].n), args[1:]
}

// The corner cases of connect and send agree with the kernel running the
// same programs in a cgroup: which program runs for an IPv4 address on an
// IPv6 socket, disconnects, connects again on a connecting or connected
// socket, sends with an AF_UNSPEC address, the message source programs
// set, and a sendmmsg that fails halfway.
func TestExecEdgesAgreeWithKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("attaching cgroup programs needs root")
	}
	if testing.Short() {
		t.Skip("runs several supervised commands")
	}
	cases := []struct {
		name   string
		attach map[string]ebpf.AttachType
		args   []string
	}{
		// redirect (connect4) counts in counts[2], deny_port6 (connect6)
		// in counts[0] and counts[1]: each tells which one ran.
		{"udp_connect", map[string]ebpf.AttachType{"redirect": ebpf.AttachCGroupInet4Connect, "deny_port6": ebpf.AttachCGroupInet6Connect},
			[]string{"udp-connect", "4", "127.0.0.1:9", "udp-connect", "6", "127.0.0.1:9", "udp-connect", "6", "[::ffff:127.0.0.1]:9",
				"udp-connect", "6", "[::ffff:127.0.0.1]:10"}},
		{"udp_sendto", map[string]ebpf.AttachType{"redirect_udp": ebpf.AttachCGroupUDP4Sendmsg, "redirect_udp6": ebpf.AttachCGroupUDP6Sendmsg},
			[]string{"udp-sendto", "4", "127.0.0.1:9", "udp-sendto", "6", "127.0.0.1:9", "udp-sendto", "6", "[::ffff:127.0.0.1]:9",
				"udp-csendto", "6", "[::ffff:127.0.0.1]:10", "unspec", "udp-csendto", "4", "127.0.0.1:10", "127.0.0.1:9",
				"udp-sendto", "4", "[::ffff:127.0.0.1]:9", "udp-sendto", "4", "127.0.0.1:0", "sendmmsg-bad", "127.0.0.1:9",
				"udp-csendto", "6", "[::ffff:127.0.0.1]:9", "null", "udp-csendto", "4", "127.0.0.1:9", "null"}},
		{"tcp_again", map[string]ebpf.AttachType{"redirect": ebpf.AttachCGroupInet4Connect, "deny_port6": ebpf.AttachCGroupInet6Connect},
			[]string{"tcp-again", "127.0.0.1:9", "tcp-again", "[::ffff:127.0.0.1]:10"}},
		{"msg_src", map[string]ebpf.AttachType{"src_udp": ebpf.AttachCGroupUDP4Sendmsg, "src_udp6": ebpf.AttachCGroupUDP6Sendmsg},
			[]string{"sendsrc", "4", "-", "sendsrc", "4", "127.0.0.3:0", "sendsrc", "6", "-"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { agreeWithKernel(t, tc.attach, tc.args) })
	}
}
