package xdp

import (
	"encoding/binary"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestBatchAllocatesNothing runs the worker's hot path (copy frames into
// pages, run the batch, act on the verdicts, send) without sockets and
// counts heap allocations: there must be none per batch.
func TestBatchAllocatesNothing(t *testing.T) {
	for _, engine := range []string{"interp", "jit"} {
		t.Run(engine, func(t *testing.T) {
			spec, err := bpfhost.LoadCollectionSpec("../../examples/firewall.o")
			if err != nil {
				t.Fatal(err)
			}
			coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine})
			if err != nil {
				t.Skip(err)
			}
			defer coll.Close()
			a, b := &iface{name: "a", index: 1, mtu: 1500, fd: -1}, &iface{name: "b", index: 2, mtu: 1500, fd: -1}
			l := &Link{prog: coll.Programs["xdp_firewall"], bridge: true, stop: -1}
			wk, err := newWorker(l, 0, nil) // no interfaces: no sockets
			if err != nil {
				t.Fatal(err)
			}
			defer wk.close()
			l.ifaces, l.workers = []*iface{a, b}, []*worker{wk}
			a.link, b.link = l, l
			wk.socks = []rxSock{{fd: -1, ifc: a}, {fd: -1, ifc: b}}
			frame := make([]byte, 60)
			copy(frame, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, 0x45})
			binary.BigEndian.PutUint16(frame[16:], 46)
			frame[23] = 17
			copy(frame[26:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
			n := len(wk.frames)
			allocs := testing.AllocsPerRun(20, func() {
				for i := 0; i < n; i++ {
					wk.receive(i%2, i, frame, 60, 0, 0, 0)
				}
				wk.flush(n)
			})
			if allocs != 0 {
				t.Errorf("%v allocations per batch of %d frames, want 0", allocs, n)
			}
			s := l.Stats()
			if s.Verdicts[Pass].Packets < uint64(20*n) || s.TXErrors < uint64(20*n) {
				t.Errorf("stats %+v: want every frame passed (and its send failed: no socket)", s)
			}
		})
	}
}
