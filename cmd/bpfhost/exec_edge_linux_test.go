package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
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
	"late-send":    lateSend,
	"bind-twice":   bindTwice,
	"proto":        protoCalls,
	"odd-names":    oddNames,
	"bound-tcp":    boundConnect,
}

// boundConnect: ADDR. A TCP socket bound to port 0 of loopback (so it has
// a port while closed) connects to ADDR and reads the server's answer.
func boundConnect(args []string) (string, []string) {
	sa := rawSockaddr(args[0])
	fam, local := unix.AF_INET, rawSockaddr("127.0.0.1:0")
	if len(sa) > unix.SizeofSockaddrInet4 {
		fam, local = unix.AF_INET6, rawSockaddr("[::ffff:127.0.0.1]:0")
	}
	fd, err := unix.Socket(fam, unix.SOCK_STREAM, 0)
	if err != nil {
		return errName(err), args[1:]
	}
	defer unix.Close(fd)
	if err := rawBind(fd, local); err != nil {
		return "bind " + errName(err), args[1:]
	}
	if err := rawConnect(fd, sa); err != nil {
		return errName(err), args[1:]
	}
	b := make([]byte, 16)
	k, _ := unix.Read(fd, b)
	return strings.TrimSpace(string(b[:max(k, 0)])), args[1:]
}

// oddNames: ADDR. A UDP socket connected to ADDR sends with an address
// pointer and length 0 (sendto), then with a msg_namelen of 200 holding
// ADDR (sendmsg; the kernel reads at most a sockaddr_storage).
func oddNames(args []string) (string, []string) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err), args[1:]
	}
	defer unix.Close(fd)
	sa := rawSockaddr(args[0])
	if err := rawConnect(fd, sa); err != nil {
		return "connect " + errName(err), args[1:]
	}
	p := []byte(datagramTag + "odd")
	_, _, e := syscall.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), 0, uintptr(unsafe.Pointer(&sa[0])), 0)
	res := []string{outcome(errOrNil(e), "sent")}
	long := make([]byte, 200)
	copy(long, sa)
	iov := unix.Iovec{Base: &p[0], Len: uint64(len(p))}
	msg := unix.Msghdr{Name: &long[0], Namelen: uint32(len(long)), Iov: &iov, Iovlen: 1}
	_, _, e = syscall.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), 0)
	res = append(res, outcome(errOrNil(e), "sent"))
	return strings.Join(res, " "), args[1:]
}

func errOrNil(e syscall.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// protocols are the socket kinds protoCalls makes.
var protocols = map[string]struct{ typ, proto int }{
	"tcp": {unix.SOCK_STREAM, unix.IPPROTO_TCP}, "mptcp": {unix.SOCK_STREAM, unix.IPPROTO_MPTCP},
	"udp": {unix.SOCK_DGRAM, unix.IPPROTO_UDP}, "udplite": {unix.SOCK_DGRAM, unix.IPPROTO_UDPLITE},
	"ping": {unix.SOCK_DGRAM, unix.IPPROTO_ICMP},
}

// protoCalls: PROTO OP ADDR. An IPv4 socket of PROTO ("tcp", "mptcp",
// "udp", "udplite") connects to, binds to or (datagram sockets) sends to
// ADDR (OP "connect", "bind", "send"). A stream socket that connects reads
// the server's answer.
func protoCalls(args []string) (string, []string) {
	rest := args[3:]
	p, op := protocols[args[0]], args[1]
	fd, err := unix.Socket(unix.AF_INET, p.typ, p.proto)
	if err != nil {
		return errName(err), rest
	}
	defer unix.Close(fd)
	sa := rawSockaddr(args[2])
	switch op {
	case "bind":
		return outcome(rawBind(fd, sa), "bound"), rest
	case "send":
		return outcome(rawSendto(fd, []byte(datagramTag+args[0]), sa), "sent"), rest
	}
	if err := rawConnect(fd, sa); err != nil {
		return errName(err), rest
	}
	if p.typ != unix.SOCK_STREAM {
		return "connected", rest
	}
	b := make([]byte, 16)
	k, _ := unix.Read(fd, b)
	return strings.TrimSpace(string(b[:max(k, 0)])), rest
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
// (EALREADY or 0, depending on how far the handshake went: "again"), a
// third once it is connected (EISCONN), then the server's answer.
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
	// EALREADY while the handshake runs, 0 once it is done (the call
	// finds the socket connected): scheduling decides, so both are
	// "again".
	if err := rawConnect(fd, sa); err == nil || err == unix.EALREADY {
		res = append(res, "again")
	} else {
		res = append(res, errName(err))
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

// lateSend: RESULT ADDR. Once the test has killed the supervisor (see
// TestExecFailClosed), bind, sendto, sendmsg and sendmmsg to ADDR, and
// write the outcomes to RESULT.
func lateSend(args []string) (string, []string) {
	result, a := args[0], args[1]
	os.WriteFile(result+".ready", nil, 0o644)
	if !waitFile(result + ".go") {
		return "not told to go", args[2:]
	}
	out := []string{bindTo("127.0.0.1:0"), sendTo("sendto", a), sendTo("sendmsg", a), sendMany(a)}
	os.WriteFile(result, []byte(strings.Join(out, "\n")+"\n"), 0o644)
	return "done", args[2:]
}

// bindTwice: ADDR1 ADDR2. A TCP socket binds to ADDR1, then to ADDR2.
func bindTwice(args []string) (string, []string) {
	sa, fam := sockaddrOf(args[0])
	fd, err := unix.Socket(fam, unix.SOCK_STREAM, 0)
	if err != nil {
		return errName(err), args[2:]
	}
	defer unix.Close(fd)
	first := outcome(unix.Bind(fd, sa), "bound")
	sb, _ := sockaddrOf(args[1])
	return first + " " + outcome(unix.Bind(fd, sb), "bound"), args[2:]
}

// sendSource: FAMILY BIND. A UDP socket of FAMILY ("4", "6", or "6n"),
// bound to BIND unless it is "-" (or "pktinfo": it sends with IP_PKTINFO
// asking for source 127.0.0.3), sends with sendmsg to a receiver on
// 127.0.0.1 (IPv4-mapped for "6"; for "6n" on ::1), which prints the
// datagram's source address.
func sendSource(args []string) (string, []string) {
	rest := args[2:]
	rxFam, rxAddr := unix.AF_INET, unix.Sockaddr(&unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	if args[0] == "6n" {
		rxFam, rxAddr = unix.AF_INET6, &unix.SockaddrInet6{Addr: [16]byte{15: 1}}
	}
	rx, err := unix.Socket(rxFam, unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err), rest
	}
	defer unix.Close(rx)
	if err := unix.Bind(rx, rxAddr); err != nil {
		return errName(err), rest
	}
	unix.SetsockoptTimeval(rx, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
	local, err := unix.Getsockname(rx)
	if err != nil {
		return errName(err), rest
	}
	var to string
	switch l := local.(type) {
	case *unix.SockaddrInet4:
		to = fmt.Sprintf("127.0.0.1:%d", l.Port)
		if args[0] == "6" {
			to = fmt.Sprintf("[::ffff:127.0.0.1]:%d", l.Port)
		}
	case *unix.SockaddrInet6:
		to = fmt.Sprintf("[::1]:%d", l.Port)
	}
	fd, err := unix.Socket(sockFamily(strings.TrimSuffix(args[0], "n")), unix.SOCK_DGRAM, 0)
	if err != nil {
		return errName(err), rest
	}
	defer unix.Close(fd)
	var oob []byte
	switch args[1] {
	case "-":
	case "pktinfo": // IP_PKTINFO with ipi_spec_dst 127.0.0.3
		oob = unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: [4]byte{127, 0, 0, 3}})
	default:
		if err := rawBind(fd, rawSockaddr(args[1])); err != nil {
			return "bind " + errName(err), rest
		}
	}
	dest := rawSockaddr(to)
	p := []byte("src")
	iov := unix.Iovec{Base: &p[0], Len: uint64(len(p))}
	msg := unix.Msghdr{Name: &dest[0], Namelen: uint32(len(dest)), Iov: &iov, Iovlen: 1}
	if len(oob) > 0 {
		msg.Control, msg.Controllen = &oob[0], uint64(len(oob))
	}
	if _, _, e := syscall.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), 0); e != 0 {
		return errName(e), rest
	}
	b := make([]byte, 16)
	_, from, err := unix.Recvfrom(rx, b, 0)
	if err != nil {
		return "receive " + errName(err), rest
	}
	switch f := from.(type) {
	case *unix.SockaddrInet4:
		return "from " + netip.AddrFrom4(f.Addr).String(), rest
	case *unix.SockaddrInet6:
		return "from " + netip.AddrFrom16(f.Addr).String(), rest
	}
	return "from ?", rest
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
				"udp-csendto", "6", "[::ffff:127.0.0.1]:9", "null", "udp-csendto", "4", "127.0.0.1:9", "null",
				"odd-names", "127.0.0.1:9"}},
		{"tcp_again", map[string]ebpf.AttachType{"redirect": ebpf.AttachCGroupInet4Connect, "deny_port6": ebpf.AttachCGroupInet6Connect},
			[]string{"tcp-again", "127.0.0.1:9", "tcp-again", "[::ffff:127.0.0.1]:10",
				"bound-tcp", "127.0.0.1:9", "bound-tcp", "[::ffff:127.0.0.1]:9", "bound-tcp", "[::ffff:127.0.0.1]:10"}},
		{"msg_src", map[string]ebpf.AttachType{"src_udp": ebpf.AttachCGroupUDP4Sendmsg, "src_udp6": ebpf.AttachCGroupUDP6Sendmsg},
			[]string{"sendsrc", "4", "-", "sendsrc", "4", "127.0.0.3:0", "sendsrc", "6", "-", "sendsrc", "4", "pktinfo",
				"sendsrc", "6", "[::ffff:127.0.0.3]:0", "sendsrc", "6n", "-", "sendsrc", "6n", "[::1]:0"}},
		// MPTCP and UDP-Lite run the same programs as TCP and UDP (the
		// program sees MPTCP's TCP subflow).
		{"protocols", map[string]ebpf.AttachType{"proto_connect": ebpf.AttachCGroupInet4Connect,
			"proto_sendmsg": ebpf.AttachCGroupUDP4Sendmsg, "proto_bind": ebpf.AttachCGroupInet4Bind},
			[]string{"proto", "mptcp", "connect", "127.0.0.1:9", "proto", "mptcp", "connect", "127.0.0.1:10",
				"proto", "mptcp", "bind", "127.0.0.1:9", "proto", "tcp", "connect", "127.0.0.1:9",
				"proto", "udplite", "connect", "127.0.0.1:9", "proto", "udplite", "send", "127.0.0.1:9",
				"proto", "udplite", "bind", "127.0.0.1:0", "proto", "udp", "send", "127.0.0.1:9"}},
		// A sock_create program that marks an MPTCP socket: the
		// supervisor makes it (MPTCP needs no privilege, unlike raw).
		{"sock_create_mptcp", map[string]ebpf.AttachType{"mark_all": ebpf.AttachCGroupInetSockCreate},
			[]string{"socket", "mptcp4", "socket", "tcp6", "socket", "udp4"}},
		{"bind_twice", map[string]ebpf.AttachType{"low_binds": ebpf.AttachCGroupInet4Bind, "even_ports": ebpf.AttachCGroupInet4PostBind},
			[]string{"bind-twice", "127.0.0.1:28797", "127.0.0.1:28799", "bind-twice", "127.0.0.1:0", "127.0.0.1:80",
				"bind-twice", "127.0.0.1:80", "127.0.0.1:28801"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { agreeWithKernel(t, tc.attach, tc.args) })
	}
}

// Fail closed for binds and sends too: once the supervisor is dead, the
// orphaned client's bind, sendto, sendmsg and sendmmsg fail with ENOSYS
// and no datagram reaches a server (see TestExecFailClosed).
func TestExecFailClosedBindAndSend(t *testing.T) {
	nine, ten := servers(t)
	got := orphanedClient(t, []string{"cgroup/bind4=" + sockObj + ":low_binds", "cgroup/sendmsg4=" + sockObj + ":redirect_udp"},
		4, "late-send", "127.0.0.1:10")
	if got != "ENOSYS\nENOSYS\nENOSYS\nENOSYS\n" {
		t.Errorf("calls after the supervisor died: %q, want ENOSYS four times", got)
	}
	// A datagram that went out is delivered on loopback before the send
	// returns (the client wrote its result after all four), so none can
	// arrive after this look.
	if n := len(nine.datagrams()) + len(ten.datagrams()); n != 0 {
		t.Errorf("%d datagrams went through", n)
	}
}

// IPv4 ping sockets run the connect programs (ping_pre_connect). Creating
// one needs the caller's group in net.ipv4.ping_group_range, which is per
// network namespace: the client runs in a namespace of its own (unshare,
// root) that allows root's group, as the kernel's run does.
func TestExecPingConnectAgreesWithKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (a network namespace, cgroup programs)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	const script = `echo "0 0" > /proc/sys/net/ipv4/ping_group_range && exec "$@"`
	exe, _ := os.Executable()
	command := []string{"unshare", "-n", "sh", "-c", script, "sh", exe,
		"proto", "ping", "connect", "127.0.0.1:9", "proto", "ping", "connect", "127.0.0.1:10", "proto", "ping", "bind", "127.0.0.1:9"}
	attach := map[string]ebpf.AttachType{"deny_port": ebpf.AttachCGroupInet4Connect, "low_binds": ebpf.AttachCGroupInet4Bind}
	kOut, kCounts := kernelCgroup(t, attach, command...)
	out, code, rep := bpfhostExec(t, []string{"cgroup/connect4=" + sockObj + ":deny_port", "cgroup/bind4=" + sockObj + ":low_binds"}, command...)
	if code != 0 {
		t.Fatalf("bpfhost exec: exit %d: %s", code, out)
	}
	t.Logf("outcomes: %q", out)
	if out != kOut || !strings.HasPrefix(out, "EPERM\n") {
		t.Errorf("outcomes differ:\nbpfhost: %q\nkernel:  %q", out, kOut)
	}
	if c := counts(t, rep); c != kCounts {
		t.Errorf("counts map: bpfhost %v, kernel %v", c, kCounts)
	}
}

// Threads that glibc starts with clone3 (pthread_create since glibc 2.34;
// the Go runtime uses clone) are supervised: a Python client's threads
// never reach the denied port.
func TestExecClone3Threads(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	nine, ten := servers(t)
	const script = `
import socket, threading
res = []
def go(port):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port)); res.append("%d ok" % port)
    except OSError as e:
        res.append("%d %s" % (port, e.errno))
    s.close()
ts = [threading.Thread(target=go, args=(p,)) for p in (9, 10, 9, 10)]
[t.start() for t in ts]; [t.join() for t in ts]
print(" ".join(sorted(res)))
`
	out, code, rep := bpfhostExecWithEnv(t, []string{"cgroup/connect4=" + sockObj + ":deny_port"}, "", python, "-c", script)
	want := fmt.Sprintf("10 ok 10 ok 9 %d 9 %d\n", unix.EPERM, unix.EPERM)
	if code != 0 || out != want {
		t.Fatalf("exit %d, output %q; want %q", code, out, want)
	}
	// The client does not wait for the server to accept: its two
	// connections to port 10 are queued when it exits, and accepted by the
	// server's goroutine at its own pace (a denied one never is).
	for deadline := time.Now().Add(settle); ten.accepted.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if nine.accepted.Load() != 0 || ten.accepted.Load() != 2 || rep.Programs[0].Runs != 4 {
		t.Errorf("accepted %d on 9, %d on 10; report %+v", nine.accepted.Load(), ten.accepted.Load(), rep.Programs)
	}
}
