package helpers

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// v4Tuple is the lookup a packet from src to dst makes.
func v4Tuple(t *testing.T, src, dst string) SockTuple {
	t.Helper()
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	var tu SockTuple
	a, b := s.Addr().As4(), d.Addr().As4()
	copy(tu.Src[:], a[:])
	copy(tu.Dst[:], b[:])
	tu.SrcPort, tu.DstPort = s.Port(), d.Port()
	return tu
}

// TestLookupSocketHost: lookups find the test's own sockets through
// sock_diag: a TCP listener by its local end, an established connection
// by its 4-tuple (and a connection's handshake never shows: Go's Dial
// completes it), a bound UDP socket; a tuple nobody listens on finds
// nothing. Skips where sock_diag is unavailable.
func TestLookupSocketHost(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
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
	u, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	uport := u.LocalAddr().(*net.UDPAddr).Port
	cport := c.LocalAddr().(*net.TCPAddr).Port

	var buf [sockScratch]byte
	var s linux.SockContext
	probe := SockLookup{Protocol: ipprotoTCP, Full: true, Ifindex: 1, Tuple: v4Tuple(t, "127.0.0.1:1", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(lport)).String())}
	if !lookupSocket(&probe, &s, nil, &buf) {
		t.Skip("sock_diag finds no TCP listener here (no NETLINK_SOCK_DIAG or tcp_diag)")
	}
	if s.State != 10 || s.SrcPort != uint32(lport) || s.Family != unix.AF_INET || s.Type != unix.SOCK_STREAM || s.Protocol != ipprotoTCP || s.SrcIP4 != 0x0100007f || s.DstPort != 0 {
		t.Errorf("listener: %+v", s)
	}

	// The server's end of the connection: local lport, remote cport.
	q := SockLookup{Protocol: ipprotoTCP, Full: true, Ifindex: 1,
		Tuple: v4Tuple(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(cport)).String(), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(lport)).String())}
	if !lookupSocket(&q, &s, nil, &buf) {
		t.Fatal("established connection not found")
	}
	wantDport := uint16(cport)>>8 | uint16(cport)<<8 // network order in memory
	if s.State != 1 || s.SrcPort != uint32(lport) || s.DstPort != wantDport || s.DstIP4 != 0x0100007f {
		t.Errorf("established: %+v", s)
	}

	q = SockLookup{Protocol: ipprotoUDP, Full: true, Ifindex: 1,
		Tuple: v4Tuple(t, "127.0.0.1:9", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(uport)).String())}
	if !lookupSocket(&q, &s, nil, &buf) {
		t.Skip("sock_diag finds no UDP socket here (no udp_diag)")
	}
	if s.State != 7 || s.SrcPort != uint32(uport) || s.Type != unix.SOCK_DGRAM || s.Protocol != ipprotoUDP {
		t.Errorf("udp: %+v", s)
	}

	// Nobody is bound to port 1 (privileged, unused in a test machine's
	// loopback): TCP and UDP find nothing.
	for _, p := range []uint8{ipprotoTCP, ipprotoUDP} {
		q = SockLookup{Protocol: p, Full: true, Ifindex: 1, Tuple: v4Tuple(t, "127.0.0.1:9", "127.0.0.1:1")}
		if lookupSocket(&q, &s, nil, &buf) {
			t.Errorf("protocol %d: found %+v on port 1", p, s)
		}
	}
}

// TestLookupSocketAllocs: a lookup that finds a socket and its release
// allocate nothing once the run's pool exists (integer average over the
// runs, so a pool the collector dropped once does not count).
func TestLookupSocketAllocs(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	tuple := inHeap([]byte{127, 0, 0, 1, 127, 0, 0, 1, 0x9c, 0x40, byte(port >> 8), byte(port)})
	h := &impl{}
	lookup := skLookup(h, "bpf_sk_lookup_tcp", ipprotoTCP, true)
	release := skRelease(h)
	run := &Run{Program: linux.SchedCLS}
	rc := &vm.RunContext{Value: run}
	ta := uint64(uintptr(unsafe.Pointer(&tuple[0])))
	sk, err := lookup(rc, 0, ta, 12, 0xffffffff, 0)
	if err != nil || sk == 0 {
		t.Skipf("sock_diag finds no TCP listener here (%v)", err)
	}
	release(rc, sk, 0, 0, 0, 0)
	allocs := testing.AllocsPerRun(100, func() {
		sk, _ := lookup(rc, 0, ta, 12, 0xffffffff, 0)
		if sk == 0 {
			t.Fatal("listener not found")
		}
		release(rc, sk, 0, 0, 0, 0)
		run.Release()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per lookup and release", allocs)
	}
	runtime.KeepAlive(tuple)
}

// BenchmarkSocketLookup measures a bpf_sk_lookup_tcp that finds a listener
// and its bpf_sk_release (one sock_diag request over a fresh netlink
// socket).
func BenchmarkSocketLookup(b *testing.B) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Skip(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	tuple := inHeap([]byte{127, 0, 0, 1, 127, 0, 0, 1, 0x9c, 0x40, byte(port >> 8), byte(port)})
	h := &impl{}
	lookup := skLookup(h, "bpf_sk_lookup_tcp", ipprotoTCP, true)
	release := skRelease(h)
	rc := &vm.RunContext{Value: &Run{Program: linux.SchedCLS}}
	ta := uint64(uintptr(unsafe.Pointer(&tuple[0])))
	b.ReportAllocs()
	for b.Loop() {
		sk, _ := lookup(rc, 0, ta, 12, 0xffffffff, 0)
		if sk == 0 {
			b.Skip("sock_diag finds no TCP listener here")
		}
		release(rc, sk, 0, 0, 0, 0)
	}
	runtime.KeepAlive(tuple)
}

// A lookup names the socket it finds as sk storage does: by its cookie and
// inode, those of the socket's file (a plain TCP listener: an MPTCP one,
// Go's default, has a TCP subflow with a cookie of its own, which is what
// Linux's lookups return too).
func TestLookupSocketID(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skip(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	lport := sa.(*unix.SockaddrInet4).Port
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	cookie, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_COOKIE)
	if err != nil {
		t.Skip(err)
	}
	var buf [sockScratch]byte
	var s linux.SockContext
	var id maps.SocketID
	q := SockLookup{Protocol: ipprotoTCP, Full: true, Ifindex: 1, Tuple: v4Tuple(t, "127.0.0.1:1", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(lport)).String())}
	if !lookupSocket(&q, &s, &id, &buf) {
		t.Skip("sock_diag finds no TCP listener here")
	}
	if want := (maps.SocketID{Cookie: cookie, Inode: st.Ino}); id != want {
		t.Errorf("id %+v, want %+v", id, want)
	}
}
