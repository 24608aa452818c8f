package xdp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// TestInterfaceGone deletes the peer of a bridge while attached: the link
// stops by itself (Done, Err naming the interface) instead of its workers
// spinning on the socket error forever, and Close still detaches.
func TestInterfaceGone(t *testing.T) {
	b := newBridge(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	if err := l.Err(); err != nil {
		t.Fatalf("Err before anything happened: %v", err)
	}
	b.mid.IP(t, "link", "del", b.b0)
	select {
	case <-l.Done():
	case <-time.After(settle):
		t.Fatalf("the link did not stop within %v of its peer's deletion; stats %+v", settle, l.Stats())
	}
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), b.b0) || !strings.Contains(err.Error(), "went away") {
		t.Errorf("Err = %v, want one saying %s went away", err, b.b0)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close after the interface went away: %v", err)
	}
}

// TestInterfaceDownUp takes the attached interface down and up again: the
// link says so once in a trace line, waits without spinning (the socket
// error ENETDOWN is read and cleared: before, every poll returned at once
// and each worker used a whole CPU), stays attached and runs the program
// on frames again once the interface is up.
func TestInterfaceDownUp(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	b.mid.IP(t, "link", "set", b.a0, "down")
	var trace []string
	deadline := time.Now().Add(settle)
	for len(trace) == 0 && time.Now().Before(deadline) {
		trace = append(trace, l.Trace()...)
		time.Sleep(5 * time.Millisecond)
	}
	if len(trace) != 1 || !strings.Contains(trace[0], b.a0+": interface down") {
		t.Fatalf("trace %q: want one line saying %s is down", trace, b.a0)
	}
	// Idle workers wake once a poll timeout (200 ms) and use microseconds
	// each time; spinning ones use as much CPU as the scheduler gives them
	// (the whole second on an idle machine). A busy machine can only make
	// a spinning worker use less, so this cannot fail a right link, and
	// fails a spinning one wherever it gets at least half a CPU.
	cpu0 := l.Stats().CPUTime
	time.Sleep(time.Second)
	if d := l.Stats().CPUTime - cpu0; d > 500*time.Millisecond {
		t.Errorf("the workers used %v of CPU in 1 s with the interface down, want them waiting", d)
	}
	select {
	case <-l.Done():
		t.Fatalf("the link stopped when its interface only went down: %v", l.Err())
	default:
	}
	b.mid.IP(t, "link", "set", b.a0, "up")
	rx := udpListen(t, b.n2, "10.77.0.2:9000")
	// veth carries frames once both ends are up again: resend until some
	// pass (a frame sent before the carrier is back is lost, not a bug).
	got := 0
	deadline = time.Now().Add(settle)
	for i := 0; got == 0 && time.Now().Before(deadline); i++ {
		udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 1)
		got = udpReceive(rx, 100*time.Millisecond)
	}
	if got == 0 {
		t.Errorf("no datagram through the bridge after %s came up again; stats %+v", b.a0, l.Stats())
	}
	if err := l.Err(); err != nil {
		t.Errorf("Err = %v after down and up", err)
	}
	// The worker saw a0 up before it forwarded that datagram: going down
	// again is said again, and a0 deleted while down stops the link (no
	// second error comes from the kernel then: only ifindex -1).
	l.Trace()
	b.mid.IP(t, "link", "set", b.a0, "down")
	trace = nil
	for deadline := time.Now().Add(settle); len(trace) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		trace = l.Trace()
	}
	if len(trace) != 1 || !strings.Contains(trace[0], b.a0+": interface down") {
		t.Errorf("trace %q after the second down: want one line saying %s is down", trace, b.a0)
	}
	b.mid.IP(t, "link", "del", b.a0)
	select {
	case <-l.Done():
	case <-time.After(settle):
		t.Fatalf("the link did not stop within %v of the deletion of its interface, down", settle)
	}
}
