package xdp_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	return len(ents)
}

// TestAttachCloseCycles attaches and closes a bridge over and over while
// n1 floods it, with Stats read from another goroutine meanwhile, and with
// a second link (monitor mode on another interface) alive in the same
// process: every cycle sees frames, the second link keeps counting, and
// afterwards no file descriptor, mapping or goroutine is left behind.
func TestAttachCloseCycles(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	stop := make(chan struct{})
	var flood sync.WaitGroup
	flood.Add(1)
	go b.n1.Do(t, func() error {
		defer flood.Done()
		c, err := net.DialUDP("udp4", nil, mustUDP("10.77.0.2:9"))
		if err != nil {
			return err
		}
		defer c.Close()
		for {
			select {
			case <-stop:
				return nil
			default:
			}
			c.Write([]byte("flood"))
			time.Sleep(50 * time.Microsecond)
		}
	})
	defer func() { close(stop); flood.Wait() }()

	// Warm up (descriptors the runtime opens once), then count.
	attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2}).Close()
	fds, goroutines := openFDs(t), runtime.NumGoroutine()

	// The second link watches n2's end of the veth, in n2's namespace.
	_, prog2 := xdptest.Load(t, hookObject, "xdp_pass", "")
	var mon *xdp.Link
	b.n2.Do(t, func() (err error) {
		mon, err = xdp.Attach(prog2, xdp.Options{Interface: b.e2, Workers: 1})
		return err
	})
	const cycles = 10
	for i := 0; i < cycles; i++ {
		var l *xdp.Link
		b.mid.Do(t, func() (err error) {
			l, err = xdp.Attach(prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
			return err
		})
		// Stats from another goroutine all along, Close included.
		readerStop, readerDone := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(readerDone)
			for {
				select {
				case <-readerStop:
					return
				default:
				}
				l.Stats()
				runtime.Gosched()
			}
		}()
		s := waitStats(l, func(s xdp.Stats) bool { return s.Sent > 0 })
		if s.Sent == 0 {
			t.Fatalf("cycle %d: no frame through the bridge; stats %+v", i, s)
		}
		// Close while frames flow and Stats is being read.
		if err := l.Close(); err != nil {
			t.Fatalf("cycle %d: Close: %v", i, err)
		}
		close(readerStop)
		<-readerDone
		after := l.Stats()
		if after.Packets < s.Packets {
			t.Errorf("cycle %d: %d packets after Close, %d before", i, after.Packets, s.Packets)
		}
	}
	if s := waitStats(mon, func(s xdp.Stats) bool { return s.Packets > 0 }); s.Packets == 0 {
		t.Errorf("the second link (monitor mode on %s) saw no frame while the bridge cycled", b.e2)
	}
	mon.Close()
	if got := openFDs(t); got != fds {
		t.Errorf("%d open file descriptors after %d cycles and the second link, %d before", got, cycles, fds)
	}
	deadline := time.Now().Add(settle)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > goroutines {
		t.Errorf("%d goroutines after the cycles, %d before", got, goroutines)
	}
}

// TestSameIfindexInTwoNamespaces attaches to two interfaces with the same
// index, 42, in two network namespaces, in one process: interface indexes
// are per namespace, so both attach (before, the second was refused as
// "already attached"), and each link counts its own frames: those its
// interface received, not those it sent (PACKET_IGNORE_OUTGOING does not
// hold for the members of a fanout group: before, each link also ran on
// the other's frames as they went out), with both kinds of ring.
func TestSameIfindexInTwoNamespaces(t *testing.T) {
	for _, low := range []bool{false, true} {
		t.Run(fmt.Sprintf("LowLatency=%v", low), func(t *testing.T) { testSameIfindex(t, low) })
	}
}

func testSameIfindex(t *testing.T, lowLatency bool) {
	netnstest.Require(t)
	x, y := netnstest.New(t), netnstest.New(t)
	ex, ey := netnstest.Uniq("xi"), netnstest.Uniq("xj")
	if out, err := exec.Command("ip", "-n", x.Name, "link", "add", ex, "index", "42", "type", "veth",
		"peer", "name", ey, "netns", y.Name, "index", "42").CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot choose interface indexes: %v %s", err, out)
	}
	x.IP(t, "link", "set", ex, "up")
	y.IP(t, "link", "set", ey, "up")
	x.IP(t, "addr", "add", "10.78.0.1/24", "dev", ex)
	y.IP(t, "addr", "add", "10.78.0.2/24", "dev", ey)
	collX, progX := xdptest.Load(t, hookObject, "xdp_pass", "")
	collY, progY := xdptest.Load(t, hookObject, "xdp_pass", "")
	lx := attach(t, x, progX, xdp.Options{Interface: ex, Workers: 1, LowLatency: lowLatency})
	ly := attach(t, y, progY, xdp.Options{Interface: ey, Workers: 1, LowLatency: lowLatency})
	x.IP(t, "neigh", "replace", "10.78.0.2", "lladdr", y.MAC(t, ey).String(), "dev", ex, "nud", "permanent")
	y.IP(t, "neigh", "replace", "10.78.0.1", "lladdr", x.MAC(t, ex).String(), "dev", ey, "nud", "permanent")
	udpListen(t, x, "10.78.0.1:9000")
	udpListen(t, y, "10.78.0.2:9000")
	udpSend(t, x, "10.78.0.1:0", "10.78.0.2:9000", 3)
	udpSend(t, y, "10.78.0.2:0", "10.78.0.1:9000", 2)
	sx := waitStats(lx, func(s xdp.Stats) bool { return s.Packets >= 2 })
	sy := waitStats(ly, func(s xdp.Stats) bool { return s.Packets >= 3 })
	if sx.Packets != 2 || sy.Packets != 3 {
		t.Errorf("x's link ran on %d frames, y's on %d: want 2 and 3", sx.Packets, sy.Packets)
	}
	if nx, ny := mapU64(t, collX, "seen", 42), mapU64(t, collY, "seen", 42); nx != 2 || ny != 3 {
		t.Errorf("seen[42] = %d in x's maps, %d in y's: want 2 and 3", nx, ny)
	}
	if lx.Err() != nil || ly.Err() != nil {
		t.Errorf("errors %v, %v", lx.Err(), ly.Err())
	}
}

// TestAttachFailureLeavesNothing: an Attach that fails after opening its
// sockets (the interface is attached already in this process) closes
// every descriptor it opened, and the first link keeps running.
func TestAttachFailureLeavesNothing(t *testing.T) {
	b := newBridge(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	first := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	fds := openFDs(t)
	for i := 0; i < 3; i++ {
		b.mid.Do(t, func() error {
			l, err := xdp.Attach(prog, xdp.Options{Interface: b.b0, Workers: 2})
			if err == nil {
				l.Close()
				t.Errorf("attached to %s twice in one process", b.b0)
			}
			return nil
		})
	}
	if got := openFDs(t); got != fds {
		t.Errorf("%d open file descriptors after 3 refused attaches, %d before", got, fds)
	}
	if err := first.Err(); err != nil {
		t.Errorf("first link: %v", err)
	}
}
