package xdp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// bridge is two namespaces (n1: 10.77.0.1, n2: 10.77.0.2) whose veth pairs
// end in a middle namespace (a0 towards n1, b0 towards n2), where bpfhost
// attaches. Nothing connects a0 and b0 but bpfhost.
type bridge struct {
	mid, n1, n2    *netnstest.NS
	a0, b0, e1, e2 string
	mac1, mac2     net.HardwareAddr
}

func newBridge(t *testing.T) *bridge {
	t.Helper()
	netnstest.Require(t)
	b := &bridge{mid: netnstest.New(t), n1: netnstest.New(t), n2: netnstest.New(t),
		a0: netnstest.Uniq("xa"), b0: netnstest.Uniq("xb"), e1: netnstest.Uniq("xe"), e2: netnstest.Uniq("xf")}
	netnstest.Veth(t, b.mid, b.a0, b.n1, b.e1)
	netnstest.Veth(t, b.mid, b.b0, b.n2, b.e2)
	b.n1.IP(t, "addr", "add", "10.77.0.1/24", "dev", b.e1)
	b.n2.IP(t, "addr", "add", "10.77.0.2/24", "dev", b.e2)
	b.mac1 = b.n1.MAC(t, b.e1)
	b.mac2 = b.n2.MAC(t, b.e2)
	return b
}

// staticNeighbours lets n1 and n2 reach each other without ARP.
func (b *bridge) staticNeighbours(t *testing.T) {
	b.n1.IP(t, "neigh", "replace", "10.77.0.2", "lladdr", b.mac2.String(), "dev", b.e1, "nud", "permanent")
	b.n2.IP(t, "neigh", "replace", "10.77.0.1", "lladdr", b.mac1.String(), "dev", b.e2, "nud", "permanent")
}

func attach(t *testing.T, ns *netnstest.NS, prog *bpfhost.Program, opts xdp.Options) *xdp.Link {
	t.Helper()
	var l *xdp.Link
	ns.Do(t, func() (err error) {
		l, err = xdp.Attach(prog, opts)
		return err
	})
	t.Cleanup(func() { l.Close() })
	return l
}

// udpListen opens a UDP socket in ns on addr.
func udpListen(t *testing.T, ns *netnstest.NS, addr string) net.PacketConn {
	t.Helper()
	var c net.PacketConn
	ns.Do(t, func() (err error) {
		c, err = net.ListenPacket("udp4", addr)
		return err
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// udpSend sends n datagrams from src to dst inside ns.
func udpSend(t *testing.T, ns *netnstest.NS, src, dst string, n int) {
	t.Helper()
	ns.Do(t, func() error {
		la, err := net.ResolveUDPAddr("udp4", src)
		if err != nil {
			return err
		}
		c, err := net.DialUDP("udp4", la, mustUDP(dst))
		if err != nil {
			return err
		}
		defer c.Close()
		for i := 0; i < n; i++ {
			if _, err := c.Write([]byte(fmt.Sprintf("datagram %d", i))); err != nil {
				return err
			}
		}
		return nil
	})
}

func mustUDP(s string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp4", s)
	if err != nil {
		panic(err)
	}
	return a
}

// settle bounds the waits for what normally takes milliseconds (a frame
// through the bridge, a count reaching its value) on a loaded machine:
// each wait returns as soon as its condition holds, so only a failing test
// waits this long.
const settle = 30 * time.Second

// quiet is how long a receiver listens for datagrams that must not come,
// after the frames were seen handled (waitStats): a frame is sent right
// after its verdict is counted, so a wrongly forwarded one comes within
// microseconds. (On a loaded machine a late one can be missed, which only
// lets a wrong run pass, never fails a right one.)
const quiet = 100 * time.Millisecond

// udpReceive counts the datagrams c receives until quiet for wait: for
// datagrams that must not come, once their frames were handled.
func udpReceive(c net.PacketConn, wait time.Duration) int {
	buf := make([]byte, 2048)
	n := 0
	for {
		c.SetReadDeadline(time.Now().Add(wait))
		if _, _, err := c.ReadFrom(buf); err != nil {
			return n
		}
		n++
	}
}

// udpReceiveN reads from c until want datagrams came or settle passed,
// then listens for quiet for more; it returns how many came. (Counting
// until the receiver is quiet for a fixed time instead fails when the
// bridge's worker is held back for longer than that on a busy machine.)
func udpReceiveN(c net.PacketConn, want int) int {
	buf := make([]byte, 2048)
	n := 0
	c.SetReadDeadline(time.Now().Add(settle))
	for n < want {
		if _, _, err := c.ReadFrom(buf); err != nil {
			return n
		}
		n++
	}
	return n + udpReceive(c, quiet)
}

// waitStats polls the link until cond holds or settle passes, and returns
// the last stats. Counters are updated apart (a batch's verdicts before
// its frames are sent, Sent after), so a test waits for every counter it
// then checks.
func waitStats(l *xdp.Link, cond func(xdp.Stats) bool) xdp.Stats {
	deadline := time.Now().Add(settle)
	for {
		s := l.Stats()
		if cond(s) || time.Now().After(deadline) {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mapU64(t *testing.T, coll *bpfhost.Collection, name string, key uint32) uint64 {
	t.Helper()
	var v uint64
	if err := coll.Maps[name].Lookup(key, &v); err != nil {
		t.Fatalf("map %s key %d: %v", name, key, err)
	}
	return v
}

const hookObject = "testdata/hook.o"

func TestMonitorMode(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	coll, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Workers: 2})
	rx := udpListen(t, b.n2, "10.77.0.2:9000")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 10)
	s := waitStats(l, func(s xdp.Stats) bool { return s.Packets >= 10 })
	if s.Packets != 10 || s.Verdicts[xdp.Pass].Packets != 10 || s.Sent != 0 {
		t.Errorf("stats %+v: want 10 frames passed, none sent", s)
	}
	if n := mapU64(t, coll, "seen", uint32(b.mid.Ifindex(t, b.a0))); n != 10 {
		t.Errorf("seen[a0] = %d, want 10", n)
	}
	// Monitor mode forwards nothing: nothing connects the two sides.
	if n := udpReceive(rx, 200*time.Millisecond); n != 0 {
		t.Errorf("n2 received %d datagrams in monitor mode, want 0", n)
	}
	// The counts outlive the link.
	l.Close()
	if s := l.Stats(); s.Verdicts[xdp.Pass].Packets != 10 {
		t.Errorf("stats after Close %+v: want the 10 frames passed", s)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestBridgePass(t *testing.T) {
	for _, low := range []bool{false, true} {
		t.Run(fmt.Sprintf("LowLatency=%v", low), func(t *testing.T) {
			b := newBridge(t)
			_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
			l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2, LowLatency: low})
			rx := udpListen(t, b.n2, "10.77.0.2:9000")
			udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 20)
			if n := udpReceiveN(rx, 19); n < 19 { // the first may wait on ARP
				t.Errorf("n2 received %d of 20 datagrams through the bridge; stats %+v", n, l.Stats())
			}
			// And back, as an exchange of replies.
			var c *net.UDPConn
			b.n1.Do(t, func() (err error) {
				c, err = net.DialUDP("udp4", nil, mustUDP("10.77.0.2:9000"))
				return err
			})
			defer c.Close()
			c.Write([]byte("ping"))
			buf := make([]byte, 16)
			rx.SetReadDeadline(time.Now().Add(settle))
			n, from, err := rx.ReadFrom(buf)
			if err != nil {
				t.Fatal(err)
			}
			rx.WriteTo(buf[:n], from)
			c.SetReadDeadline(time.Now().Add(settle))
			if _, err := c.Read(buf); err != nil {
				t.Errorf("no reply through the bridge: %v", err)
			}
		})
	}
}

func TestBridgeDrop(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_drop", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 1})
	rx := udpListen(t, b.n2, "10.77.0.2:9000")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 5)
	s := waitStats(l, func(s xdp.Stats) bool { return s.Verdicts[xdp.Drop].Packets >= 5 })
	if n := udpReceive(rx, quiet); n != 0 {
		t.Errorf("n2 received %d datagrams through a bridge that drops all", n)
	}
	if s.Verdicts[xdp.Drop].Packets != 5 {
		t.Errorf("stats %+v: want 5 drops", s)
	}
	// Bridged interfaces are promiscuous while attached, and only then.
	for _, dev := range []string{b.a0, b.b0} {
		if p := promiscuity(t, b.mid, dev); p != 1 {
			t.Errorf("%s: promiscuity %d while bridged, want 1", dev, p)
		}
	}
	l.Close()
	for _, dev := range []string{b.a0, b.b0} {
		if p := promiscuity(t, b.mid, dev); p != 0 {
			t.Errorf("%s: promiscuity %d after Close, want 0", dev, p)
		}
	}
}

// promiscuity is the interface's promiscuous mode count, as ip reports it.
func promiscuity(t *testing.T, ns *netnstest.NS, dev string) int {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns.Name, "-d", "-j", "link", "show", dev).Output()
	if err != nil {
		t.Fatal(err)
	}
	var links []struct{ Promiscuity int }
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -d -j link show %s: %q, %v", dev, out, err)
	}
	return links[0].Promiscuity
}

// TestUpdate swaps a link's program while frames flow: drop-all, then pass.
func TestUpdate(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	coll, drop := xdptest.Load(t, hookObject, "xdp_drop", "")
	l := attach(t, b.mid, drop, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	rx := udpListen(t, b.n2, "10.77.0.2:9000")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 3)
	// The three must be handled before the update, or the new program
	// runs on them.
	waitStats(l, func(s xdp.Stats) bool { return s.Verdicts[xdp.Drop].Packets >= 3 })
	if n := udpReceive(rx, quiet); n != 0 {
		t.Errorf("%d datagrams through drop-all", n)
	}
	if err := l.Update(coll.Programs["xdp_pass"]); err != nil || l.Program().Name() != "xdp_pass" {
		t.Fatalf("update: %v, program %s", err, l.Program().Name())
	}
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 4)
	if n := udpReceiveN(rx, 4); n != 4 {
		t.Errorf("%d of 4 datagrams through the updated link", n)
	}
	if s := waitStats(l, func(s xdp.Stats) bool { return s.Verdicts[xdp.Pass].Packets >= 4 }); s.Verdicts[xdp.Drop].Packets != 3 || s.Verdicts[xdp.Pass].Packets != 4 {
		t.Errorf("stats %+v: want 3 dropped, then 4 passed", s)
	}
	l.Close()
	if err := l.Update(drop); err == nil {
		t.Error("update of a closed link: no error")
	}
}

func TestAbortedTraced(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_abort", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 1})
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 3)
	s := waitStats(l, func(s xdp.Stats) bool { return s.Packets >= 3 })
	if s.Verdicts[xdp.Aborted].Packets != 3 || s.Sent != 0 {
		t.Errorf("stats %+v: want 3 aborted, none sent", s)
	}
	if tr := l.Trace(); len(tr) != 3 || !bytes.Contains([]byte(tr[0]), []byte("XDP_ABORTED")) {
		t.Errorf("trace %q: want 3 XDP_ABORTED lines", tr)
	}
}

func TestAttachErrors(t *testing.T) {
	_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	if _, err := xdp.Attach(prog, xdp.Options{Interface: "bpfhost-no-such0"}); err == nil {
		t.Error("attach to a missing interface: no error")
	}
	if _, err := xdp.Attach(prog, xdp.Options{Interface: "lo", Peer: "lo"}); err == nil {
		t.Error("attach with the interface as its own peer: no error")
	}
	if os.Geteuid() == 0 {
		return
	}
	_, err := xdp.Attach(prog, xdp.Options{Interface: "lo"})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("CAP_NET_RAW")) {
		t.Errorf("attach without privileges: %v, want an error naming CAP_NET_RAW", err)
	}
}
