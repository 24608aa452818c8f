package xdp_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// TestTXResponder: xdp_udp_echo answers datagrams to port 7 with XDP_TX;
// the answer comes back to the sender and nothing reaches the far side.
func TestTXResponder(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_udp_echo", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	far := udpListen(t, b.n2, "10.77.0.2:7")
	var c *net.UDPConn
	b.n1.Do(t, func() (err error) {
		c, err = net.DialUDP("udp4", &net.UDPAddr{IP: net.IP{10, 77, 0, 1}}, mustUDP("10.77.0.2:7"))
		return err
	})
	defer c.Close()
	for i := 0; i < 5; i++ {
		msg := []byte{'e', 'c', 'h', 'o', byte('0' + i)}
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(settle))
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil || !bytes.Equal(buf[:n], msg) {
			t.Fatalf("echo %d: %q, %v; stats %+v", i, buf[:n], err, l.Stats())
		}
	}
	if n := udpReceive(far, quiet); n != 0 {
		t.Errorf("the far side received %d datagrams the responder answered", n)
	}
	if s := waitStats(l, func(s xdp.Stats) bool { return s.Verdicts[xdp.TX].Packets >= 5 }); s.Verdicts[xdp.TX].Packets != 5 {
		t.Errorf("stats %+v: want 5 XDP_TX", s)
	}
}

// TestDevmapRedirect: three namespaces on a0, b0 and c0; a devmap_hash sends
// what arrives on a0 to c0 (attached by another link of the process), so n3
// receives what n1 sends and n2 nothing. A devmap entry naming an interface
// no link has is a counted redirect error.
func TestDevmapRedirect(t *testing.T) {
	b, n3, c0 := threeWay(t)

	coll, prog := xdptest.Load(t, hookObject, "xdp_redirect_dev", "")
	a0, c0i := uint32(b.mid.Ifindex(t, b.a0)), uint32(b.mid.Ifindex(t, c0))
	b0 := uint32(b.mid.Ifindex(t, b.b0))
	if err := coll.Maps["ports"].Update(a0, c0i, 0); err != nil {
		t.Fatal(err)
	}
	if err := coll.Maps["ports"].Update(b0, uint32(1), 0); err != nil { // lo: not attached
		t.Fatal(err)
	}
	_, pass := xdptest.Load(t, hookObject, "xdp_pass", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	attach(t, b.mid, pass, xdp.Options{Interface: c0, Workers: 1})

	rx2 := udpListen(t, b.n2, "0.0.0.0:9000")
	rx3 := udpListen(t, n3, "10.77.0.3:9000")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.3:9000", 10)
	if n := udpReceiveN(rx3, 10); n != 10 {
		t.Errorf("n3 received %d of 10 redirected datagrams; stats %+v", n, l.Stats())
	}
	if n := udpReceive(rx2, quiet); n != 0 {
		t.Errorf("n2 received %d datagrams meant for n3", n)
	}
	udpSend(t, b.n2, "10.77.0.2:0", "10.77.0.1:9000", 3)
	// A redirect error is counted before its batch's verdicts.
	s := waitStats(l, func(s xdp.Stats) bool { return s.RedirectErrors >= 3 && s.Verdicts[xdp.Redirect].Packets >= 13 })
	if s.Verdicts[xdp.Redirect].Packets != 13 || s.RedirectErrors != 3 {
		t.Errorf("stats %+v: want 13 redirects, 3 of them to an interface not attached", s)
	}
	if tr := l.Trace(); len(tr) != 3 {
		t.Errorf("trace %q: want 3 redirect errors", tr)
	}
}

// threeWay is a bridge with a third namespace n3 (10.77.0.3) on c0.
func threeWay(t *testing.T) (b *bridge, n3 *netnstest.NS, c0 string) {
	b = newBridge(t)
	n3, c0, e3 := netnstest.New(t), netnstest.Uniq("xc"), netnstest.Uniq("xg")
	netnstest.Veth(t, b.mid, c0, n3, e3)
	n3.IP(t, "addr", "add", "10.77.0.3/24", "dev", e3)
	mac3 := n3.MAC(t, e3)
	b.n1.IP(t, "neigh", "replace", "10.77.0.3", "lladdr", mac3.String(), "dev", b.e1, "nud", "permanent")
	b.staticNeighbours(t)
	return b, n3, c0
}

// TestDevmapBroadcast: BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS sends a
// frame from a0 to b0 and c0, both in the devmap, and not back to a0.
func TestDevmapBroadcast(t *testing.T) {
	b, n3, c0 := threeWay(t)
	coll, prog := xdptest.Load(t, hookObject, "xdp_broadcast", "")
	for _, dev := range []string{b.a0, b.b0, c0} {
		i := uint32(b.mid.Ifindex(t, dev))
		if err := coll.Maps["ports"].Update(i, i, 0); err != nil {
			t.Fatal(err)
		}
	}
	_, pass := xdptest.Load(t, hookObject, "xdp_pass", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	attach(t, b.mid, pass, xdp.Options{Interface: c0, Workers: 1})
	rx2 := udpListen(t, b.n2, "0.0.0.0:9000")
	rx3 := udpListen(t, n3, "0.0.0.0:9000")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.255:9000", 5)
	if n := udpReceiveN(rx2, 5); n != 5 {
		t.Errorf("n2 received %d of 5 broadcast datagrams", n)
	}
	if n := udpReceiveN(rx3, 5); n != 5 {
		t.Errorf("n3 received %d of 5 broadcast datagrams", n)
	}
	// Sent is counted once sendmmsg returns, which can be after the
	// receiver has the datagram.
	if s := waitStats(l, func(s xdp.Stats) bool { return s.Sent >= 10 }); s.Verdicts[xdp.Redirect].Packets != 5 || s.Sent != 10 || s.RedirectErrors != 0 {
		t.Errorf("stats %+v: want 5 redirects, each sent twice (b0, c0)", s)
	}
}

// TestCPUMapRedirect: a frame redirected to a cpumap entry is delivered
// (forwarded to the peer, as XDP_PASS); without the entry the program's
// fallback action (XDP_DROP) applies.
func TestCPUMapRedirect(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	coll, prog := xdptest.Load(t, hookObject, "xdp_cpumap", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 1})
	rx := udpListen(t, b.n2, "10.77.0.2:9000")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 3)
	// The three must be handled before the entry is added, or they go
	// through it.
	waitStats(l, func(s xdp.Stats) bool { return s.Verdicts[xdp.Drop].Packets >= 3 })
	if n := udpReceive(rx, quiet); n != 0 {
		t.Errorf("%d datagrams arrived without a cpumap entry", n)
	}
	if err := coll.Maps["cpus"].Update(uint32(0), uint32(64), 0); err != nil {
		t.Fatal(err)
	}
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 4)
	if n := udpReceiveN(rx, 4); n != 4 {
		t.Errorf("%d of 4 datagrams redirected to a cpumap arrived", n)
	}
	if s := waitStats(l, func(s xdp.Stats) bool { return s.Sent >= 4 }); s.Verdicts[xdp.Drop].Packets != 3 || s.Verdicts[xdp.Redirect].Packets != 4 || s.Sent != 4 {
		t.Errorf("stats %+v: want 3 drops, 4 redirects sent", s)
	}
}

// capture opens a packet socket on dev in ns that receives every frame.
func capture(t *testing.T, ns *netnstest.NS, dev string) int {
	return ns.PacketSocket(t, dev, true)
}

// TestEncapAdjustHead: xdp_encap wraps IPv4 in IPv4 (bpf_xdp_adjust_head
// into the headroom), checks metadata it wrote (bpf_xdp_adjust_meta) and
// appends a trailer (bpf_xdp_adjust_tail); the far side sees all of it.
func TestEncapAdjustHead(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_encap", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 1})
	fd := capture(t, b.n2, b.e2)
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 1)
	buf := make([]byte, 2048)
	for deadline := time.Now().Add(settle); ; {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EAGAIN && time.Now().Before(deadline) {
			continue // the capture's receive timeout
		}
		if err != nil {
			t.Fatalf("no encapsulated frame on the far side: %v; stats %+v trace %q", err, l.Stats(), l.Trace())
		}
		f := buf[:n]
		if n < 14+20+20+8 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[14+9] != 4 {
			continue
		}
		inner := f[34:]
		if inner[9] != 17 || !bytes.Equal(inner[16:20], []byte{10, 77, 0, 2}) {
			t.Fatalf("inner header %x", inner[:20])
		}
		outerLen := int(binary.BigEndian.Uint16(f[16:]))
		if outerLen != int(binary.BigEndian.Uint16(inner[2:]))+20 {
			t.Errorf("outer total length %d, inner %d", outerLen, binary.BigEndian.Uint16(inner[2:]))
		}
		if !bytes.Equal(f[n-4:], []byte{0xde, 0xad, 0xbe, 0xef}) || n != 14+outerLen+4 {
			t.Errorf("frame of %d bytes ends in %x, want the 4-byte trailer after %d bytes", n, f[n-4:], 14+outerLen)
		}
		break
	}
	// n2 may answer the IP-in-IP frame with an ICMP error, which is wrapped too.
	if s := l.Stats(); s.Verdicts[xdp.Pass].Packets < 1 || s.Verdicts[xdp.Aborted].Packets != 0 {
		t.Errorf("stats %+v", s)
	}
}
