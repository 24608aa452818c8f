package bpfhost_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/helpers"
)

// loopbackFrame builds Ethernet, IPv4 (127.0.0.1 to 127.0.0.1) and a TCP or
// UDP header from sport to dport.
func loopbackFrame(proto uint8, sport, dport int) []byte {
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

// setSockOpts gives a socket a mark and a priority, which lookups report.
func setSockOpts(t *testing.T, c syscall.Conn, mark, prio int) {
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

// TestSocketLookupKernel runs testdata/sklookup's tc and XDP programs in the kernel
// (BPF_PROG_TEST_RUN) and in bpfhost's engines over packets for a TCP
// listener, an established TCP connection and a bound UDP socket that the
// test holds on 127.0.0.1, and for ports nobody uses: the verdicts and
// what the program recorded of each socket must be the same. Skips without
// the kernel oracle (root) or where bpfhost cannot ask the host for
// sockets (no sock_diag).
func TestSocketLookupKernel(t *testing.T) {
	requireKernel(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	setSockOpts(t, ln.(*net.TCPListener), 7, 3)
	lport := ln.Addr().(*net.TCPAddr).Port
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	setSockOpts(t, srv.(*net.TCPConn), 9, 5)
	cport := c.LocalAddr().(*net.TCPAddr).Port
	u, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	setSockOpts(t, u.(*net.UDPConn), 11, 2)
	uport := u.LocalAddr().(*net.UDPAddr).Port

	var probe helpers.SockTuple
	copy(probe.Src[:], []byte{127, 0, 0, 1})
	copy(probe.Dst[:], []byte{127, 0, 0, 1})
	probe.SrcPort, probe.DstPort = 1, uint16(lport)
	if _, ok := helpers.LookupSocket(helpers.SockLookup{Tuple: probe, Protocol: unix.IPPROTO_TCP, Full: true, Ifindex: 1}); !ok {
		t.Skip("bpfhost cannot ask this host for sockets (no NETLINK_SOCK_DIAG or tcp_diag)")
	}
	probe.DstPort = uint16(uport)
	if _, ok := helpers.LookupSocket(helpers.SockLookup{Tuple: probe, Protocol: unix.IPPROTO_UDP, Full: true, Ifindex: 1}); !ok {
		t.Skip("bpfhost cannot ask this host for UDP sockets (no udp_diag)")
	}

	inputs := [][]byte{
		loopbackFrame(unix.IPPROTO_TCP, 40000, lport), // the listener
		loopbackFrame(unix.IPPROTO_TCP, cport, lport), // the server's end of the connection
		loopbackFrame(unix.IPPROTO_TCP, lport, cport), // the client's end
		loopbackFrame(unix.IPPROTO_UDP, 40000, uport), // the UDP socket
		loopbackFrame(unix.IPPROTO_TCP, 40000, 1),     // nobody
		loopbackFrame(unix.IPPROTO_UDP, 40000, 1),     // nobody
	}
	for _, c := range []struct {
		prog      string
		found, no uint32 // the verdicts
	}{{"tc_sklookup", 0, 2}, {"xdp_sklookup", 2, 1}} {
		t.Run(c.prog, func(t *testing.T) {
			a := agreement{object: "testdata/sklookup/sklookup.o", program: c.prog, inputs: inputs}
			k := runKernel(t, a)
			// The kernel finds the test's four sockets and nothing on
			// port 1: what bpfhost must find too.
			for i := range inputs {
				want := c.found
				if i >= 4 {
					want = c.no
				}
				if !strings.HasPrefix(k.runs[i], fmt.Sprintf("retval %d ", want)) {
					t.Fatalf("kernel, input %d: %s, want retval %d", i+1, k.runs[i], want)
				}
			}
			for _, engine := range engines {
				a.engine = engine
				t.Run(engine, func(t *testing.T) { compareWith(t, a, k) })
			}
		})
	}
}
