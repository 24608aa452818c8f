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
	for _, engine := range bpfhost.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			a, b := &iface{name: "a", index: 1, mtu: 1500, fd: -1}, &iface{name: "b", index: 2, mtu: 1500, fd: -1}
			l, wk, _ := offlineWorker(t, engine, "../../examples/firewall.o", "xdp_firewall", true, a, b)
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

// offlineWorker loads program of object with engine and returns a link
// over ifaces (bridge mode if bridge) with one worker and no sockets, a
// receive slot per interface, and the collection: the worker's hot path
// runs without the kernel (its sends fail). It skips where the engine
// cannot load the program.
func offlineWorker(t *testing.T, engine bpfhost.Engine, object, program string, bridge bool, ifaces ...*iface) (*Link, *worker, *bpfhost.Collection) {
	t.Helper()
	spec, err := bpfhost.LoadCollectionSpec(object)
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine})
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { coll.Close() })
	l := &Link{bridge: bridge, stop: -1}
	l.sizePages(1500)
	l.prog.Store(coll.Programs[program])
	wk, err := newWorker(l, 0) // no sockets
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wk.close)
	l.ifaces, l.workers = ifaces, []*worker{wk}
	for _, ifc := range ifaces {
		ifc.link = l
		wk.socks = append(wk.socks, rxSock{fd: -1, ifc: ifc})
	}
	return l, wk, coll
}

// TestReceiveLimits: frames longer than the MTU allows, truncated by the
// ring, or shorter than an Ethernet header are counted and dropped before
// the program runs; a VLAN tag the kernel moved to metadata is put back.
func TestReceiveLimits(t *testing.T) {
	l := &Link{stop: -1}
	l.sizePages(1500)
	wk, err := newWorker(l, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.close()
	wk.socks = []rxSock{{fd: -1, ifc: &iface{name: "a", index: 3, mtu: 1500, fd: -1}}}
	big := make([]byte, 1515)
	for _, c := range []struct {
		name    string
		data    []byte
		wireLen uint32
		status  uint32
		ok      bool
	}{
		{"MTU-sized", big[:1514], 1514, 0, true},
		{"over the MTU", big, 1515, 0, false},
		{"truncated by the ring", big[:100], 9000, 0, false},
		{"runt", big[:13], 13, 0, false},
		{"tagged, MTU-sized", big[:1514], 1514, tpStatusVLANValid, true},
	} {
		before := wk.c.oversize.Load()
		if got := wk.receive(0, 0, c.data, c.wireLen, c.status, 7, 0); got != c.ok {
			t.Errorf("%s: received %v, want %v", c.name, got, c.ok)
		}
		if dropped := wk.c.oversize.Load() - before; dropped != map[bool]uint64{true: 0, false: 1}[c.ok] {
			t.Errorf("%s: oversize count +%d", c.name, dropped)
		}
	}
	f := &wk.frames[0]
	if f.End-f.Data != 1518 || f.Page[f.Data+12] != 0x81 || f.Page[f.Data+15] != 7 || f.IngressIfindex != 3 {
		t.Errorf("tagged frame: %d bytes, TPID %x, TCI %x, ifindex %d", f.End-f.Data, f.Page[f.Data+12:f.Data+14], f.Page[f.Data+14:f.Data+16], f.IngressIfindex)
	}
}
