package xdp

import (
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestTailLimit: bpf_xdp_adjust_tail grows a live frame as far as Linux's
// native XDP lets it, the page's end less the room Linux keeps for
// skb_shared_info (tailReserve), and not a byte further: for a 60-byte
// frame at XDP_PACKET_HEADROOM in a 4 KiB page, a delta of
// 4096-256-320-60 = 3460 is taken and 3461 refused.
func TestTailLimit(t *testing.T) {
	for _, engine := range bpfhost.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			l, wk, coll := offlineWorker(t, engine, "testdata/hook.o", "grow_tail", false, &iface{name: "a", index: 1, mtu: 1500, fd: -1})
			limit := int32(bpfhost.XDPPageSize - bpfhost.XDPHeadroom - tailReserve - 60)
			for _, c := range []struct {
				delta int32
				want  int
			}{{limit, Pass}, {limit + 1, Drop}, {-46, Pass}, {-47, Drop}} {
				if err := coll.Maps["tail_delta"].Put(uint32(0), c.delta); err != nil {
					t.Fatal(err)
				}
				before := l.Stats().Verdicts[c.want].Packets
				if !wk.receive(0, 0, make([]byte, 60), 60, 0, 0, 0) {
					t.Fatal("frame not received")
				}
				wk.flush(1)
				if got := l.Stats().Verdicts[c.want].Packets - before; got != 1 {
					t.Errorf("delta %d: want %v (stats %+v)", c.delta, c.want, l.Stats())
				}
			}
		})
	}
}
