package xdp_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// TestOutputOnlySent: Options.Output (--pcap-out) sees the frames that
// left, not those the kernel refused: with the peer down, passed frames
// are counted as TX errors, traced once, and none is output (before, each
// was output as if it had left, and no line said why); once it is up
// again, each frame sent is output.
func TestOutputOnlySent(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
	var outputs atomic.Int64
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 1,
		Output: func(int, []byte) { outputs.Add(1) }})
	b.mid.IP(t, "link", "set", b.b0, "down")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 3)
	s := waitStats(l, func(s xdp.Stats) bool { return s.TXErrors >= 3 })
	if s.TXErrors != 3 || s.Sent != 0 || outputs.Load() != 0 {
		t.Errorf("peer down: %d TX errors, %d sent, %d output; want 3, 0, 0", s.TXErrors, s.Sent, outputs.Load())
	}
	// And one trace line says why (before, none did), with the one saying
	// b0 is down. The count comes before the line: wait for it.
	var trace []string
	for deadline := time.Now().Add(settle); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		trace = append(trace, l.Trace()...)
		if strings.Contains(strings.Join(trace, "\n"), "not sent") {
			break
		}
	}
	var notSent []string
	for _, line := range trace {
		if strings.Contains(line, "not sent") {
			notSent = append(notSent, line)
		}
	}
	if len(notSent) != 1 || !strings.Contains(notSent[0], "network is down") {
		t.Errorf("trace %q: want one line saying the frames were not sent, network down", trace)
	}
	b.mid.IP(t, "link", "set", b.b0, "up")
	rx := udpListen(t, b.n2, "10.77.0.2:9000")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9000", 2)
	if n := udpReceiveN(rx, 2); n != 2 {
		t.Fatalf("n2 received %d of 2 datagrams once the peer was up; stats %+v", n, l.Stats())
	}
	// Output follows each send; the datagrams came, so their sends returned
	// or are about to: wait for the count.
	s = waitStats(l, func(s xdp.Stats) bool { return s.Sent >= 2 && outputs.Load() >= 2 })
	if s.Sent != uint64(outputs.Load()) {
		t.Errorf("%d frames sent, %d output: want each sent frame output once", s.Sent, outputs.Load())
	}
}
