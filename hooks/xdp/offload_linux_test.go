package xdp_test

import (
	"net"
	"strings"
	"time"

	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/ethtool"
	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// gro reads (or, with set >= 0, sets) GRO on dev in ns.
func gro(t *testing.T, ns *netnstest.NS, dev string, set int) uint32 {
	t.Helper()
	return ns.GRO(t, dev, set)
}

// TestOffloadsOffWhileAttached checks that Attach turns GRO off on the
// interface (GRO frames exceed the MTU), says so, and that Close turns it on
// again, even when called from outside the interface's namespace; with
// KeepOffloads it stays on.
func TestOffloadsOffWhileAttached(t *testing.T) {
	b := newBridge(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	if gro(t, b.mid, b.a0, 1) != 1 {
		t.Skip("veth GRO cannot be turned on on this kernel")
	}
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 1})
	if v := gro(t, b.mid, b.a0, -1); v != 0 {
		t.Errorf("GRO on %s while attached = %d, want 0", b.a0, v)
	}
	if got := l.Offloads(); len(got) != 1 || got[0] != b.a0+": generic-receive-offload off until detach (frames must fit the MTU)" {
		t.Errorf("Offloads() = %q", got)
	}
	l.Close() // on the test's thread, outside b.mid
	if v := gro(t, b.mid, b.a0, -1); v != 1 {
		t.Errorf("GRO on %s after Close = %d, want 1 (restored)", b.a0, v)
	}
	if v := gro(t, b.mid, b.b0, -1); v != 0 {
		t.Errorf("GRO on %s after Close = %d, want 0 (it was off before)", b.b0, v)
	}

	l = attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Workers: 1, KeepOffloads: true})
	if v := gro(t, b.mid, b.a0, -1); v != 1 || len(l.Offloads()) != 0 {
		t.Errorf("KeepOffloads: GRO = %d, Offloads() = %q; want 1 and none", v, l.Offloads())
	}
}

// tsoTransfer turns TSO and GSO on on the far end of a0 (n1), attaches
// xdp_pass between a0 and b0 with opts, and sends 256 KiB over TCP from n1
// to n2: veth hands the bridge the sender's 64 KiB aggregates whole. It
// returns the link and the bytes n2 received once the transfer ended: the
// sender closed, or nothing came for wait, which also bounds the write (a
// transfer that must complete is given settle; one that stalls by design,
// a short wait).
func tsoTransfer(t *testing.T, opts xdp.Options, wait time.Duration) (*xdp.Link, int64) {
	b := newBridge(t)
	b.staticNeighbours(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	b.n1.Do(t, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		for _, cmd := range []uint32{ethtool.STSO, ethtool.SGSO} {
			if err := ethtool.Set(fd, b.e1, cmd, 1); err != nil {
				return err
			}
		}
		return nil
	})
	opts.Interface, opts.Peer, opts.Workers = b.a0, b.b0, 1
	l := attach(t, b.mid, prog, opts)
	received := b.n2.TCPSink(t, "10.77.0.2:7001", wait)
	b.n1.Do(t, func() error {
		c, err := net.DialTimeout("tcp4", "10.77.0.2:7001", settle)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetWriteDeadline(time.Now().Add(wait))
		_, _ = c.Write(make([]byte, 256<<10))
		return nil
	})
	return l, <-received
}

// TestTSOSegmented: a local sender's TSO aggregates reach the bridge whole
// over veth; bpfhost cuts them into MTU-sized segments (PACKET_VNET_HDR says
// how), runs the program on each and forwards them: the whole transfer
// arrives, nothing is oversize.
func TestTSOSegmented(t *testing.T) {
	l, n := tsoTransfer(t, xdp.Options{}, settle)
	s := l.Stats()
	if n != 256<<10 {
		t.Errorf("%d of %d bytes arrived", n, 256<<10)
	}
	if s.Segments == 0 || s.Oversize != 0 {
		t.Errorf("stats %+v: want segments, no oversize frame", s)
	}
	if s.CPUTime <= 0 {
		t.Errorf("the worker's CPU time is %v after forwarding %d frames", s.CPUTime, s.Packets)
	}
	if s.Verdicts[xdp.Pass].Packets < s.Segments || s.Verdicts[xdp.Pass].Bytes > s.Verdicts[xdp.Pass].Packets*1514 {
		t.Errorf("stats %+v: want every segment run as a frame of at most the MTU", s)
	}
}

// TestOversizeExplained: TPACKET_V2 rings (LowLatency) cannot hold an
// aggregate to segment: it is counted as oversize and explained by one
// trace line naming the cure.
func TestOversizeExplained(t *testing.T) {
	// The aggregates are dropped, so the transfer stalls: it is given
	// two seconds, enough to send one.
	l, _ := tsoTransfer(t, xdp.Options{LowLatency: true}, 2*time.Second)
	s := waitStats(l, func(s xdp.Stats) bool { return s.Oversize > 0 })
	if s.Oversize == 0 {
		t.Fatalf("no oversize frame counted: %+v", s)
	}
	n := 0
	for _, line := range l.Trace() {
		if strings.Contains(line, "over the MTU") && strings.Contains(line, "tso off") && strings.Contains(line, "TPACKET_V2") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d trace lines explain the oversize frames, want 1", n)
	}
}
