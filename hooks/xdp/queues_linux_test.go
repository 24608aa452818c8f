package xdp_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// TestRxQueueIndexAgreesWithKernel attaches xdp_queues (frames counted by
// rx_queue_index) to a veth end with four receive queues twice at once:
// with the kernel's generic XDP (which passes every frame on to the packet
// taps) and with bpfhost in monitor mode. Both see the same frames, so the
// per-queue counts must be equal, and the sender's flows must have spread
// over more than one queue for the test to mean anything.
func TestRxQueueIndexAgreesWithKernel(t *testing.T) {
	netnstest.Require(t)
	mid, n1 := netnstest.New(t), netnstest.New(t)
	a0, e1 := netnstest.Uniq("xq"), netnstest.Uniq("xr")
	mid.IP(t, "link", "add", a0, "numtxqueues", "4", "numrxqueues", "4", "type", "veth",
		"peer", "name", e1, "netns", n1.Name, "numtxqueues", "4", "numrxqueues", "4")
	mid.IP(t, "link", "set", a0, "up")
	n1.IP(t, "link", "set", e1, "up")
	n1.Do(t, func() error { return netnstest.OffloadsOff(e1) })
	n1.IP(t, "addr", "add", "10.78.0.1/24", "dev", e1)
	n1.IP(t, "neigh", "replace", "10.78.0.2", "lladdr", "02:00:00:00:00:02", "dev", e1, "nud", "permanent")

	kcoll, kprog := xdptest.LoadKernel(t, hookObject, "xdp_queues", "")
	kl := xdptest.AttachGeneric(t, mid, kprog, a0)
	defer kl.Close()
	coll, prog := xdptest.Load(t, hookObject, "xdp_queues", "")
	l := attach(t, mid, prog, xdp.Options{Interface: a0, Workers: 2})

	const flows = 64
	n1.Do(t, func() error {
		for i := 0; i < flows; i++ {
			c, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 78, 0, 1), Port: 20000 + i},
				&net.UDPAddr{IP: net.IPv4(10, 78, 0, 2), Port: 9})
			if err != nil {
				return err
			}
			_, err = c.Write([]byte(fmt.Sprintf("flow %d", i)))
			c.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	waitStats(l, func(s xdp.Stats) bool { return s.Packets >= flows })
	l.Close()

	used := 0
	var total uint64
	for q := uint32(0); q < 8; q++ {
		var kv, v uint64
		if err := kcoll.Maps["queues"].Lookup(q, &kv); err != nil {
			t.Fatal(err)
		}
		if err := coll.Maps["queues"].Lookup(q, &v); err != nil {
			t.Fatal(err)
		}
		if kv != v {
			t.Errorf("queue %d: kernel counted %d frames, bpfhost %d", q, kv, v)
		}
		if kv > 0 {
			used++
		}
		total += kv
	}
	if total < flows {
		t.Errorf("the kernel counted %d frames, want at least %d", total, flows)
	}
	if used < 2 {
		t.Errorf("the %d flows used %d receive queue(s): the test cannot tell queues apart", flows, used)
	}
}
