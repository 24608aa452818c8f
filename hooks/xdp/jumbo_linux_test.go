package xdp

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform"
)

// TestJumboFrameLimit: with loopback's MTU of 65536, the link's pages held
// frames of up to 65550 bytes, more than the platform.MaxPacketSize the
// verifier proves programs safe for; RunXDPBatch now refuses those, so the
// worker must drop them before the batch as oversize, and still take a
// frame of the most bytes allowed.
func TestJumboFrameLimit(t *testing.T) {
	const mtu = 65536
	l := &Link{stop: -1}
	l.sizePages(mtu)
	if l.maxFrame > platform.MaxPacketSize {
		t.Fatalf("MTU %d: frames of up to %d bytes, more than %d", mtu, l.maxFrame, platform.MaxPacketSize)
	}
	wk, err := newWorker(l, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.close()
	wk.socks = []rxSock{{fd: -1, ifc: &iface{name: "lo", index: 1, mtu: mtu, fd: -1}}}
	frame := make([]byte, mtu+14)
	if wk.receive(0, 0, frame, uint32(len(frame)), 0, 0, 0) {
		f := wk.frames[0]
		t.Fatalf("frame of %d bytes taken as [%d,%d)", len(frame), f.Data, f.End)
	}
	if got := wk.c.oversize.Load(); got != 1 {
		t.Errorf("oversize %d, want 1", got)
	}
	frame = frame[:platform.MaxPacketSize]
	if !wk.receive(0, 0, frame, uint32(len(frame)), 0, 0, 0) {
		t.Fatalf("frame of %d bytes dropped", len(frame))
	}
	if f := wk.frames[0]; f.End-f.Data != len(frame) {
		t.Errorf("frame of %d bytes taken as [%d,%d)", len(frame), f.Data, f.End)
	}
}
