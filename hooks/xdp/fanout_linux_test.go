package xdp

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/internal/netnstest"
)

// TestFanoutPlan: one socket per worker for a single queue, by receiving
// CPU (hashed by flow when there are more workers than CPUs); for
// several, a QM member per queue_mapping 0..queues whose frames carry
// queue_mapping-1 (0 when none is recorded), every worker with a socket.
func TestFanoutPlan(t *testing.T) {
	for _, c := range []struct {
		queues, workers, cpus, n, mode int
		want                           []uint32
	}{
		{1, 2, 2, 2, unix.PACKET_FANOUT_CPU, []uint32{0, 0}},
		{1, 1, 4, 1, unix.PACKET_FANOUT_CPU, []uint32{0}},
		{0, 3, 2, 3, unix.PACKET_FANOUT_HASH, []uint32{0, 0, 0}},
		{1, 2, 0, 2, unix.PACKET_FANOUT_HASH, []uint32{0, 0}}, // Options.FlowHash
		{4, 2, 2, 5, unix.PACKET_FANOUT_QM, []uint32{0, 0, 1, 2, 3}},
		{2, 6, 2, 6, unix.PACKET_FANOUT_QM, []uint32{0, 0, 1, 0, 0, 0}},
	} {
		n, mode := fanoutPlan(c.queues, c.workers, c.cpus)
		if n != c.n || mode != c.mode {
			t.Errorf("fanoutPlan(%d, %d, %d) = %d, %d; want %d, %d", c.queues, c.workers, c.cpus, n, mode, c.n, c.mode)
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

// TestCPUMapTargetWorker: a frame redirected to CPU c goes to the queue of
// worker c mod workers, which holds at most the entry's qsize frames.
func TestCPUMapTargetWorker(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("testdata/hook.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	if err := coll.Maps["cpus"].Put(uint32(1), uint32(2)); err != nil { // qsize 2
		t.Fatal(err)
	}
	cpus := coll.Maps["cpus"]
	l := &Link{stop: -1}
	l.sizePages(1500)
	l.prog.Store(coll.Programs["xdp_cpumap"])
	for w := 0; w < 2; w++ {
		wk, err := newWorker(l, w)
		if err != nil {
			t.Fatal(err)
		}
		defer wk.close()
		l.workers = append(l.workers, wk)
	}
	a := &iface{name: "a", index: 1, mtu: 1500, fd: -1, link: l}
	wk := l.workers[0]
	f := &wk.frames[0]
	f.Meta, f.Data, f.End = bpfhost.XDPHeadroom, bpfhost.XDPHeadroom, bpfhost.XDPHeadroom+60
	f.Redirect = bpfhost.XDPMapRedirect(cpus, 1, 0)
	for i := 0; i < 3; i++ {
		wk.toCPU(0, a, 0)
	}
	if n0, n1 := l.workers[0].cpuq.n, l.workers[1].cpuq.n; n0 != 0 || n1 != 2 {
		t.Errorf("queued on worker 0: %d, worker 1: %d; want 0 and 2 (qsize)", n0, n1)
	}
	if d := wk.c.cpumapDrops.Load(); d != 1 {
		t.Errorf("%d cpumap drops, want 1", d)
	}
}

// TestTally: a batch's verdicts reach the counters once added, invalid
// actions apart, and the tally starts again from zero.
func TestTally(t *testing.T) {
	var c counters
	var tl tally
	tl.count(Drop, 60, 10)
	tl.count(Drop, 40, 5)
	tl.count(Pass, 100, 7)
	tl.count(9, 1, 1)
	c.addTally(&tl)
	if tl != (tally{}) {
		t.Errorf("tally after adding: %v, want zero", tl)
	}
	tl.count(Drop, 1, 1)
	c.addTally(&tl)
	var s Stats
	s.add(&c)
	if d := s.Verdicts[Drop]; d.Packets != 3 || d.Bytes != 101 || d.Time != 16 {
		t.Errorf("drops %+v, want 3 packets, 101 bytes, 16ns", d)
	}
	if p := s.Verdicts[Pass]; p.Packets != 1 || p.Bytes != 100 {
		t.Errorf("passes %+v, want 1 packet of 100 bytes", p)
	}
	if s.Invalid.Packets != 1 || s.Packets != 5 {
		t.Errorf("invalid %d, packets %d; want 1 and 5", s.Invalid.Packets, s.Packets)
	}
}

// TestFanoutMode: on a single-queue veth the sockets fan out by receiving
// CPU, or by flow hash with Options.FlowHash (PACKET_FANOUT reads back
// group | mode<<16).
func TestFanoutMode(t *testing.T) {
	netnstest.Require(t)
	a, b := netnstest.New(t), netnstest.New(t)
	a0, b0 := netnstest.Uniq("fa"), netnstest.Uniq("fb")
	netnstest.Veth(t, a, a0, b, b0)
	spec, err := bpfhost.LoadCollectionSpec("testdata/hook.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	for _, c := range []struct {
		flowHash bool
		want     int
	}{{false, unix.PACKET_FANOUT_CPU}, {true, unix.PACKET_FANOUT_HASH}} {
		a.Do(t, func() error {
			l, err := Attach(coll.Programs["xdp_pass"], Options{Interface: a0, Workers: 1, FlowHash: c.flowHash})
			if err != nil {
				return err
			}
			defer l.Close()
			v, err := unix.GetsockoptInt(l.workers[0].socks[0].fd, unix.SOL_PACKET, unix.PACKET_FANOUT)
			if err != nil {
				return err
			}
			if mode := v >> 16 & 0xff; mode != c.want {
				t.Errorf("FlowHash %v: fanout mode %d, want %d", c.flowHash, mode, c.want)
			}
			return nil
		})
	}
}
