package socktest

import (
	"encoding/binary"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/helpers"
)

// Sockets are a test's sockets on 127.0.0.1 and their ports.
type Sockets struct {
	// Listen is the TCP listener's port; Client the connection's local
	// port at the client's end (the server's end is Listen).
	Listen, Client int
	// UDP is the bound UDP socket's port.
	UDP int
}

// Open opens the sockets, with marks and priorities that lookups report
// (listener 7/3, the server's end of the connection 9/5, UDP 11/2), and
// closes them when the test ends. It skips the test if bpfhost cannot ask
// the host for them (no NETLINK_SOCK_DIAG, tcp_diag or udp_diag).
func Open(t testing.TB) Sockets {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { ln.Close() })
	setOpts(t, ln.(*net.TCPListener), 7, 3)
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	setOpts(t, srv.(*net.TCPConn), 9, 5)
	u, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	setOpts(t, u.(*net.UDPConn), 11, 2)
	s := Sockets{Listen: ln.Addr().(*net.TCPAddr).Port, Client: c.LocalAddr().(*net.TCPAddr).Port, UDP: u.LocalAddr().(*net.UDPAddr).Port}

	var probe helpers.SockTuple
	copy(probe.Src[:], []byte{127, 0, 0, 1})
	copy(probe.Dst[:], []byte{127, 0, 0, 1})
	probe.SrcPort, probe.DstPort = 1, uint16(s.Listen)
	if _, ok := helpers.LookupSocket(helpers.SockLookup{Tuple: probe, Protocol: unix.IPPROTO_TCP, Full: true, Ifindex: 1}); !ok {
		t.Skip("bpfhost cannot ask this host for sockets (no NETLINK_SOCK_DIAG or tcp_diag)")
	}
	probe.DstPort = uint16(s.UDP)
	if _, ok := helpers.LookupSocket(helpers.SockLookup{Tuple: probe, Protocol: unix.IPPROTO_UDP, Full: true, Ifindex: 1}); !ok {
		t.Skip("bpfhost cannot ask this host for UDP sockets (no udp_diag)")
	}
	return s
}

// Frames are packets for the sockets: the listener, the server's and the
// client's end of the connection, the UDP socket, and then TCP and UDP to
// port 1, where nobody listens.
func (s Sockets) Frames() [][]byte {
	return [][]byte{
		Frame(unix.IPPROTO_TCP, 40000, s.Listen),
		Frame(unix.IPPROTO_TCP, s.Client, s.Listen),
		Frame(unix.IPPROTO_TCP, s.Listen, s.Client),
		Frame(unix.IPPROTO_UDP, 40000, s.UDP),
		Frame(unix.IPPROTO_TCP, 40000, 1),
		Frame(unix.IPPROTO_UDP, 40000, 1),
	}
}

// Found is how many of Frames name a socket (the first ones).
const Found = 4

// Frame builds Ethernet, IPv4 (127.0.0.1 to 127.0.0.1) and a TCP or UDP
// header from sport to dport.
func Frame(proto uint8, sport, dport int) []byte {
	l4 := 20
	if proto == unix.IPPROTO_UDP {
		l4 = 8
	}
	pkt := make([]byte, 14+20+l4)
	pkt[12], pkt[13] = 0x08, 0x00
	ip := pkt[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+l4))
	ip[8], ip[9] = 64, proto
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	binary.BigEndian.PutUint16(ip[20:], uint16(sport))
	binary.BigEndian.PutUint16(ip[22:], uint16(dport))
	if proto == unix.IPPROTO_TCP {
		ip[32] = 5 << 4 // data offset
		ip[33] = 0x02   // SYN
	} else {
		binary.BigEndian.PutUint16(ip[24:], 8)
	}
	return pkt
}

// setOpts gives a socket a mark and a priority.
func setOpts(t testing.TB, c syscall.Conn, mark, prio int) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	rc.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, mark); serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PRIORITY, prio)
		}
	})
	if serr != nil {
		t.Fatal(serr)
	}
}
