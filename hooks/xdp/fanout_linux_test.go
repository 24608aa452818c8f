package xdp

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestFanoutPlan: one socket per worker hashed for a single queue; for
// several, a QM member per queue_mapping 0..queues whose frames carry
// queue_mapping-1 (0 when none is recorded), every worker with a socket.
func TestFanoutPlan(t *testing.T) {
	for _, c := range []struct {
		queues, workers, n, mode int
		want                     []uint32
	}{
		{1, 2, 2, unix.PACKET_FANOUT_HASH, []uint32{0, 0}},
		{0, 3, 3, unix.PACKET_FANOUT_HASH, []uint32{0, 0, 0}},
		{4, 2, 5, unix.PACKET_FANOUT_QM, []uint32{0, 0, 1, 2, 3}},
		{2, 6, 6, unix.PACKET_FANOUT_QM, []uint32{0, 0, 1, 0, 0, 0}},
	} {
		n, mode := fanoutPlan(c.queues, c.workers)
		if n != c.n || mode != c.mode {
			t.Errorf("fanoutPlan(%d, %d) = %d, %d; want %d, %d", c.queues, c.workers, n, mode, c.n, c.mode)
			continue
		}
		for k := 0; k < n; k++ {
			q := uint32(0)
			if mode == unix.PACKET_FANOUT_QM {
				q = memberQueue(k, c.queues)
			}
			if q != c.want[k] {
				t.Errorf("queues %d: member %d receives queue %d, want %d", c.queues, k, q, c.want[k])
			}
		}
	}
}
