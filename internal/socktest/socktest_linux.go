package socktest

import (
	"context"
	"encoding/binary"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/helpers"
)

// Sockets are a test's sockets on 127.0.0.1 (and ::1 where the host has
// IPv6) and their ports.
type Sockets struct {
	v4, v6 *ends
}

// ends are the ports of one family's sockets: the TCP listener, the
// client's end of a connection to it (the server's end is Listen), the
// bound UDP socket and a UDP socket connected to it; and a port nobody
// uses (Free).
type ends struct {
	Listen, Client, UDP, UDPClient, Free int
	// Bound is a UDP socket bound to the loopback device (0: the test
	// may not bind to a device).
	Bound int
}

// Open opens the sockets, with marks (where the test may set them) and
// priorities that lookups report (listener 7/3, the server's end of the
// connection 9/5, UDP 11/2), and
// closes them when the test ends. It skips the test if bpfhost cannot ask
// the host for them (no NETLINK_SOCK_DIAG, tcp_diag or udp_diag).
func Open(t testing.TB) Sockets {
	t.Helper()
	var s Sockets
	if s.v4 = open(t, "4", "127.0.0.1"); s.v4 == nil {
		t.Skip("no IPv4 loopback")
	}
	s.v6 = open(t, "6", "[::1]")

	var probe helpers.SockTuple
	copy(probe.Src[:], []byte{127, 0, 0, 1})
	copy(probe.Dst[:], []byte{127, 0, 0, 1})
	probe.SrcPort, probe.DstPort = 1, uint16(s.v4.Listen)
	if _, ok := helpers.LookupSocket(helpers.SockLookup{Tuple: probe, Protocol: unix.IPPROTO_TCP, Full: true, Ifindex: 1}); !ok {
		t.Skip("bpfhost cannot ask this host for sockets (no NETLINK_SOCK_DIAG or tcp_diag)")
	}
	probe.DstPort = uint16(s.v4.UDP)
	if _, ok := helpers.LookupSocket(helpers.SockLookup{Tuple: probe, Protocol: unix.IPPROTO_UDP, Full: true, Ifindex: 1}); !ok {
		t.Skip("bpfhost cannot ask this host for UDP sockets (no udp_diag)")
	}
	return s
}

// open opens one family's sockets on addr; nil if the family has no
// loopback here.
func open(t testing.TB, family, addr string) *ends {
	t.Helper()
	ln, err := net.Listen("tcp"+family, addr+":0")
	if err != nil {
		return nil
	}
	t.Cleanup(func() { ln.Close() })
	setOpts(t, ln.(*net.TCPListener), 7, 3)
	c, err := net.Dial("tcp"+family, ln.Addr().String())
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
	u, err := net.ListenPacket("udp"+family, addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	setOpts(t, u.(*net.UDPConn), 11, 2)
	bound := 0
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) { err = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, "lo") })
		return err
	}}
	if b, err := lc.ListenPacket(context.Background(), "udp"+family, addr+":0"); err == nil {
		t.Cleanup(func() { b.Close() })
		bound = b.LocalAddr().(*net.UDPAddr).Port
	}
	uc, err := net.Dial("udp"+family, u.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { uc.Close() })
	// A port that was free for TCP and UDP a moment ago: a UDP socket's
	// port (so no UDP socket has it) that no TCP socket can bind either.
	var free int
	for i := 0; i < 10 && free == 0; i++ {
		p, err := net.ListenPacket("udp"+family, addr+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := p.LocalAddr().(*net.UDPAddr).Port
		if l, err := net.Listen("tcp"+family, net.JoinHostPort(strings.Trim(addr, "[]"), strconv.Itoa(port))); err == nil {
			l.Close()
			free = port
		}
		p.Close()
	}
	if free == 0 {
		t.Skip("no free port found")
	}
	return &ends{Listen: ln.Addr().(*net.TCPAddr).Port, Client: c.LocalAddr().(*net.TCPAddr).Port, UDP: u.LocalAddr().(*net.UDPAddr).Port,
		UDPClient: uc.LocalAddr().(*net.UDPAddr).Port, Free: free, Bound: bound}
}

// Packet is a packet for the sockets and whether it names one of them.
type Packet struct {
	Data  []byte
	Found bool
}

// Packets are packets for the sockets of each family: the listener, the
// server's and the client's end of the connection, the UDP socket, the
// connected UDP socket, TCP and UDP to a port nobody uses, the UDP socket
// bound to the loopback device (where the test may bind one); and
// an IPv6 packet between IPv4-mapped addresses for the IPv4 listener.
func (s Sockets) Packets() []Packet {
	var out []Packet
	for _, f := range []struct {
		e  *ends
		v6 bool
	}{{s.v4, false}, {s.v6, true}} {
		if f.e == nil {
			continue
		}
		e := f.e
		out = append(out,
			Packet{Frame(f.v6, unix.IPPROTO_TCP, 40000, e.Listen), true},
			Packet{Frame(f.v6, unix.IPPROTO_TCP, e.Client, e.Listen), true},
			Packet{Frame(f.v6, unix.IPPROTO_TCP, e.Listen, e.Client), true},
			Packet{Frame(f.v6, unix.IPPROTO_UDP, 40000, e.UDP), true},
			Packet{Frame(f.v6, unix.IPPROTO_UDP, e.UDP, e.UDPClient), true},
			Packet{Frame(f.v6, unix.IPPROTO_TCP, 40000, e.Free), false},
			Packet{Frame(f.v6, unix.IPPROTO_UDP, 40000, e.Free), false})
		if e.Bound != 0 {
			out = append(out, Packet{Frame(f.v6, unix.IPPROTO_UDP, 40000, e.Bound), true})
		}
	}
	// An IPv6 packet between IPv4-mapped addresses to the IPv4 listener:
	// Linux's IPv6 lookup does not find IPv4 sockets.
	m := Frame(true, unix.IPPROTO_TCP, 40000, s.v4.Listen)
	for _, a := range [][]byte{m[14+8:], m[14+24:]} {
		copy(a, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1})
	}
	return append(out, Packet{m, false})
}

// Frame builds Ethernet, IPv4 (127.0.0.1 to 127.0.0.1) or IPv6 (::1 to
// ::1) and a TCP or UDP header from sport to dport.
func Frame(v6 bool, proto uint8, sport, dport int) []byte {
	l4 := 20
	if proto == unix.IPPROTO_UDP {
		l4 = 8
	}
	l3 := 20
	if v6 {
		l3 = 40
	}
	pkt := make([]byte, 14+l3+l4)
	ip := pkt[14:]
	if v6 {
		pkt[12], pkt[13] = 0x86, 0xdd
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(l4))
		ip[6], ip[7] = proto, 64
		ip[23], ip[39] = 1, 1 // ::1
	} else {
		pkt[12], pkt[13] = 0x08, 0x00
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(l3+l4))
		ip[8], ip[9] = 64, proto
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
	}
	l := ip[l3:]
	binary.BigEndian.PutUint16(l[0:], uint16(sport))
	binary.BigEndian.PutUint16(l[2:], uint16(dport))
	if proto == unix.IPPROTO_TCP {
		l[12] = 5 << 4 // data offset
		l[13] = 0x02   // SYN
	} else {
		binary.BigEndian.PutUint16(l[4:], 8)
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
		// SO_MARK needs CAP_NET_ADMIN: without it the sockets keep mark 0.
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, mark); serr == unix.EPERM {
			serr = nil
		}
		if serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PRIORITY, prio)
		}
	})
	if serr != nil {
		t.Fatal(serr)
	}
}
