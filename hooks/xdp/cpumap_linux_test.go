package xdp_test

import (
	"encoding/binary"
	"testing"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// TestCPUMapEntryProgram: frames redirected to a cpumap entry with a
// program run that program (on the worker serving the CPU): it drops the
// datagrams to port 9 and passes (delivers) the rest, and its verdicts are
// counted apart from the attached program's.
func TestCPUMapEntryProgram(t *testing.T) {
	b := newBridge(t)
	b.staticNeighbours(t)
	coll, prog := xdptest.Load(t, hookObject, "xdp_cpumap_entry", "")
	filter := coll.Programs["xdp_cpu_filter"]
	var val [8]byte
	binary.NativeEndian.PutUint32(val[0:], 64)          // qsize
	binary.NativeEndian.PutUint32(val[4:], filter.ID()) // bpf_prog.fd: a program ID in bpfhost
	if err := coll.Maps["cpus_prog"].Put(uint32(1), val[:]); err != nil {
		t.Fatal(err)
	}
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	discard := udpListen(t, b.n2, "10.77.0.2:9")
	keep := udpListen(t, b.n2, "10.77.0.2:9001")
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9", 3)
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9001", 4)
	if n := udpReceiveN(keep, 4); n != 4 {
		t.Errorf("%d of 4 datagrams the cpumap program passed arrived", n)
	}
	s := waitStats(l, func(s xdp.Stats) bool {
		return s.CPUMap[xdp.Drop].Packets >= 3 && s.CPUMap[xdp.Pass].Packets >= 4 && s.Sent >= 4
	})
	if n := udpReceive(discard, quiet); n != 0 {
		t.Errorf("%d datagrams the cpumap program dropped arrived", n)
	}
	if s.Verdicts[xdp.Redirect].Packets != 7 || s.CPUMap[xdp.Drop].Packets != 3 || s.CPUMap[xdp.Pass].Packets != 4 ||
		s.Sent != 4 || s.CPUMapDrops != 0 || s.Packets != 7 {
		t.Errorf("stats %+v: want 7 redirects, the cpumap program dropping 3 and passing 4", s)
	}
	var seen uint64
	if err := coll.Maps["seen"].Lookup(uint32(b.mid.Ifindex(t, b.a0)), &seen); err != nil || seen != 7 {
		t.Errorf("the cpumap program counted %d frames from %s (%v), want 7", seen, b.a0, err)
	}

	// An entry naming a program that is no cpumap program: the redirect
	// fails (Linux refuses such an entry).
	binary.NativeEndian.PutUint32(val[4:], prog.ID())
	if err := coll.Maps["cpus_prog"].Put(uint32(1), val[:]); err != nil {
		t.Fatal(err)
	}
	udpSend(t, b.n1, "10.77.0.1:0", "10.77.0.2:9001", 2)
	s = waitStats(l, func(s xdp.Stats) bool { return s.RedirectErrors >= 2 })
	if s.RedirectErrors != 2 || s.Sent != 4 {
		t.Errorf("stats %+v: want 2 redirect errors, nothing more sent", s)
	}
	if n := udpReceive(keep, quiet); n != 0 {
		t.Errorf("%d datagrams arrived through a bad cpumap entry", n)
	}
}
