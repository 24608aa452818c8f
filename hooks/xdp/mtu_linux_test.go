package xdp_test

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// setMTU sets the MTU of all four ends of the bridge.
func (b *bridge) setMTU(t *testing.T, mtu string) {
	t.Helper()
	b.mid.IP(t, "link", "set", b.a0, "mtu", mtu)
	b.mid.IP(t, "link", "set", b.b0, "mtu", mtu)
	b.n1.IP(t, "link", "set", b.e1, "mtu", mtu)
	b.n2.IP(t, "link", "set", b.e2, "mtu", mtu)
}

// udpSizes sends one datagram of each payload size from n1 to n2:9000.
func (b *bridge) udpSizes(t *testing.T, sizes ...int) {
	t.Helper()
	b.n1.Do(t, func() error {
		c, err := net.DialUDP("udp4", nil, mustUDP("10.77.0.2:9000"))
		if err != nil {
			return err
		}
		defer c.Close()
		for _, n := range sizes {
			if _, err := c.Write(make([]byte, n)); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestJumboMTU bridges interfaces with an MTU of 9000: frames up to the
// MTU run and pass whole, as with generic XDP, which runs on a linear
// frame of any size. Before, pages were 4 KiB whatever the MTU, and every
// frame over 3520 bytes was dropped as "oversize" without a word.
func TestJumboMTU(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	b.setMTU(t, "9000")
	_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 1})
	rx := udpListen(t, b.n2, "10.77.0.2:9000")
	sizes := []int{100, 3600, 8900, 8972} // 8972: an IPv4 frame of exactly the MTU
	b.udpSizes(t, sizes...)
	buf := make([]byte, 10000)
	rx.SetReadDeadline(time.Now().Add(settle))
	for _, want := range sizes {
		n, _, err := rx.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram of %d bytes: %v; stats %+v, trace %q", want, err, l.Stats(), l.Trace())
		}
		if n != want {
			t.Errorf("datagram of %d bytes, want %d", n, want)
		}
	}
	if s := l.Stats(); s.Oversize != 0 || s.Verdicts[xdp.Pass].Bytes < 8972+42 {
		t.Errorf("stats %+v: want no oversize frame, the jumbo frames passed", s)
	}
}

// TestMTURaisedAfterAttach: a frame over the MTU the link was attached
// with is dropped and counted, with a trace line that says why (the MTU
// changed) instead of blaming segmentation offloads.
func TestMTURaisedAfterAttach(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 1})
	b.setMTU(t, "9000")
	b.udpSizes(t, 5000)
	s := waitStats(l, func(s xdp.Stats) bool { return s.Oversize >= 1 })
	if s.Oversize != 1 {
		t.Fatalf("stats %+v: want the 5000-byte datagram's frame oversize", s)
	}
	// The count comes just before the trace line: wait for the line.
	var tr []string
	for deadline := time.Now().Add(settle); len(tr) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		tr = l.Trace()
	}
	if len(tr) != 1 || !strings.Contains(tr[0], "MTU was raised to 9000 after attach") {
		t.Errorf("trace %q: want one line saying the MTU was raised", tr)
	}
}

// jumboFrames are UDP frames over 4 KiB for the kernel oracle on an MTU of
// 9000: from a source the firewall's blocklist drops (rule 1), and from an
// allowed one, up to the MTU.
func jumboFrames() [][]byte {
	udp := func(src net.IP, size int) []byte {
		b := make([]byte, size)
		copy(b, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0})
		ip := b[14:]
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], uint16(size-14))
		copy(ip[12:], src.To4())
		copy(ip[16:], net.IP{10, 0, 0, 1}.To4())
		binary.BigEndian.PutUint16(ip[20:], 4000)
		binary.BigEndian.PutUint16(ip[22:], 9)
		binary.BigEndian.PutUint16(ip[24:], uint16(size-34))
		return b
	}
	return [][]byte{udp(net.IP{203, 0, 113, 9}, 6000), udp(net.IP{10, 1, 2, 3}, 5000), udp(net.IP{10, 1, 2, 3}, 9014)}
}
