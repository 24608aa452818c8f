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
			spec, err := bpfhost.LoadCollectionSpec("testdata/hook.o")
			if err != nil {
				t.Fatal(err)
			}
			coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine})
			if err != nil {
				t.Skip(err)
			}
			defer coll.Close()
			a := &iface{name: "a", index: 1, mtu: 1500, fd: -1}
			l := &Link{stop: -1} // monitor mode: nothing is sent
			l.sizePages(1500)
			l.prog.Store(coll.Programs["grow_tail"])
			wk, err := newWorker(l, 0) // no sockets
			if err != nil {
				t.Fatal(err)
			}
			defer wk.close()
			l.ifaces, l.workers = []*iface{a}, []*worker{wk}
			a.link = l
			wk.socks = []rxSock{{fd: -1, ifc: a}}
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
