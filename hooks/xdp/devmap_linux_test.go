package xdp_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// devmapVal is a struct bpf_devmap_val: the interface and the entry's
// program (a program ID in bpfhost; nil: none).
func devmapVal(ifindex int, prog *bpfhost.Program) []byte {
	v := make([]byte, 8)
	binary.NativeEndian.PutUint32(v, uint32(ifindex))
	if prog != nil {
		binary.NativeEndian.PutUint32(v[4:], prog.ID())
	}
	return v
}

// TestDevmapEntryProgram: a frame redirected to a devmap entry with a
// program runs it with egress_ifindex set; XDP_PASS sends the rewritten
// frame, XDP_DROP drops it.
func TestDevmapEntryProgram(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	coll, prog := xdptest.Load(t, hookObject, "xdp_redirect_prog", "")
	b0 := b.mid.Ifindex(t, b.b0)
	if err := coll.Maps["ports_prog"].Put(uint32(b.mid.Ifindex(t, b.a0)), devmapVal(b0, coll.Programs["xdp_dev_rewrite"])); err != nil {
		t.Fatal(err)
	}
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	discard := udpListen(t, b.n2, "10.77.0.2:9")
	moved := udpListen(t, b.n2, "10.77.0.2:9002")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9", 3)
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9001", 4)
	if n := udpReceiveN(moved, 4); n != 4 {
		t.Errorf("%d of 4 datagrams the devmap program moved to port 9002 arrived there", n)
	}
	s := waitStats(l, func(s xdp.Stats) bool {
		return s.DevMap[xdp.Drop].Packets >= 3 && s.DevMap[xdp.Pass].Packets >= 4 && s.Sent >= 4
	})
	if n := udpReceive(discard, quiet); n != 0 {
		t.Errorf("%d datagrams the devmap program dropped arrived", n)
	}
	if s.Verdicts[xdp.Redirect].Packets != 7 || s.DevMap[xdp.Drop].Packets != 3 || s.DevMap[xdp.Pass].Packets != 4 || s.Sent != 4 {
		t.Errorf("stats %+v: want 7 redirects, the devmap program dropping 3 and passing 4", s)
	}
	var seen uint64
	if err := coll.Maps["seen"].Lookup(uint32(b0), &seen); err != nil || seen != 7 {
		t.Errorf("the devmap program counted %d frames for egress %d (%v), want 7", seen, b0, err)
	}
	// A program of another kind in the entry: the redirect fails.
	if err := coll.Maps["ports_prog"].Put(uint32(b.mid.Ifindex(t, b.a0)), devmapVal(b0, prog)); err != nil {
		t.Fatal(err)
	}
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9001", 2)
	if s := waitStats(l, func(s xdp.Stats) bool { return s.RedirectErrors >= 2 }); s.RedirectErrors != 2 || s.Sent != 4 {
		t.Errorf("stats %+v: want 2 redirect errors, nothing more sent", s)
	}
}

// TestDevmapBroadcastEntryProgram: with BPF_F_BROADCAST each destination's
// program runs on a copy of its own: b0's program rewrites the port of its
// copy, c0 (no program) gets the frame as it was.
func TestDevmapBroadcastEntryProgram(t *testing.T) {
	b, n3, c0 := threeWay(t)
	coll, prog := xdptest.Load(t, hookObject, "xdp_broadcast_prog", "")
	rewrite := coll.Programs["xdp_dev_rewrite"]
	for dev, p := range map[string]*bpfhost.Program{b.a0: nil, b.b0: rewrite, c0: nil} {
		i := b.mid.Ifindex(t, dev)
		if err := coll.Maps["ports_prog"].Put(uint32(i), devmapVal(i, p)); err != nil {
			t.Fatal(err)
		}
	}
	_, pass := xdptest.Load(t, hookObject, "xdp_pass", "")
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	attach(t, b.mid, pass, xdp.Options{Interface: c0, Workers: 1})
	rx2 := udpListen(t, b.n2, "0.0.0.0:9002")
	rx3 := udpListen(t, n3, "0.0.0.0:9001")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.255:9001", 5)
	if n := udpReceiveN(rx2, 5); n != 5 {
		t.Errorf("n2 received %d of 5 broadcast datagrams on the rewritten port", n)
	}
	if n := udpReceiveN(rx3, 5); n != 5 {
		t.Errorf("n3 received %d of 5 broadcast datagrams on the original port", n)
	}
	if s := waitStats(l, func(s xdp.Stats) bool { return s.Sent >= 10 }); s.Verdicts[xdp.Redirect].Packets != 5 || s.DevMap[xdp.Pass].Packets != 5 || s.Sent != 10 {
		t.Errorf("stats %+v: want 5 redirects, each sent twice, b0's program passing 5", s)
	}
}

// TestKernelOracleDevmapEntryProgram: the kernel's generic XDP with the
// same devmap entry program (its fd in struct bpf_devmap_val) on the same
// bridge delivers the same datagrams and leaves the same counts in seen.
func TestKernelOracleDevmapEntryProgram(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("skipping: no bpf(): %v", err)
	}
	a0, b0 := b.mid.Ifindex(t, b.a0), b.mid.Ifindex(t, b.b0)
	// traffic sends 3 datagrams the devmap program drops and 4 it moves,
	// and waits until seen has counted 7 (the kernel's generic XDP may
	// handle the three, sent from another thread, after the four arrived)
	// before it listens for what must not come.
	traffic := func(seen func() uint64) (moved, discarded int) {
		discard := udpListen(t, b.n2, "10.77.0.2:9")
		dst := udpListen(t, b.n2, "10.77.0.2:9002")
		defer discard.Close()
		defer dst.Close()
		udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9", 3)
		udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9001", 4)
		moved = udpReceiveN(dst, 4)
		for deadline := time.Now().Add(settle); seen() < 7 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		return moved, udpReceive(discard, quiet)
	}
	lookup := func(m interface{ Lookup(any, any) error }) uint64 {
		var v uint64
		if err := m.Lookup(uint32(b0), &v); err != nil {
			return 0 // no entry yet
		}
		return v
	}

	spec, err := ebpf.LoadCollectionSpec(hookObject)
	if err != nil {
		t.Fatal(err)
	}
	for name := range spec.Programs {
		if name != "xdp_redirect_prog" && name != "xdp_dev_rewrite" {
			delete(spec.Programs, name)
		}
	}
	kcoll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Skipf("skipping: the kernel does not load the devmap programs: %v", err)
	}
	defer kcoll.Close()
	var kval [8]byte
	binary.NativeEndian.PutUint32(kval[:], uint32(b0))
	binary.NativeEndian.PutUint32(kval[4:], uint32(kcoll.Programs["xdp_dev_rewrite"].FD()))
	b.mid.Do(t, func() error { return kcoll.Maps["ports_prog"].Put(uint32(a0), kval[:]) })
	kl := xdptest.AttachGeneric(t, b.mid, kcoll.Programs["xdp_redirect_prog"], b.a0)
	kMoved, kDiscarded := traffic(func() uint64 { return lookup(kcoll.Maps["seen"]) })
	kl.Close()
	var kSeen uint64
	if err := kcoll.Maps["seen"].Lookup(uint32(b0), &kSeen); err != nil {
		t.Fatal(err)
	}

	coll, prog := xdptest.Load(t, hookObject, "xdp_redirect_prog", "")
	if err := coll.Maps["ports_prog"].Put(uint32(a0), devmapVal(b0, coll.Programs["xdp_dev_rewrite"])); err != nil {
		t.Fatal(err)
	}
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	moved, discarded := traffic(func() uint64 { return lookup(coll.Maps["seen"]) })
	l.Close()
	var seen uint64
	if err := coll.Maps["seen"].Lookup(uint32(b0), &seen); err != nil {
		t.Fatal(err)
	}
	if kMoved != 4 || kDiscarded != 0 || moved != kMoved || discarded != kDiscarded || seen != kSeen {
		t.Errorf("kernel: %d moved, %d discarded, seen %d; bpfhost: %d, %d, %d; want 4, 0, 7 both",
			kMoved, kDiscarded, kSeen, moved, discarded, seen)
	}
}
