package xdp_test

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// TestKernelOracle attaches the same object once with the kernel's generic
// XDP and once with bpfhost (monitor mode) to the same veth end, injects
// the same frames from the other end, and compares the per-verdict counts
// and the final maps (per-CPU values summed over CPUs). The kernel's counts
// are observed from outside (see kernelRun): XDP_DROP and XDP_ABORTED are
// compared as one count, "dropped".
func TestKernelOracle(t *testing.T) {
	netnstest.Require(t)
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("skipping: no bpf(): %v", err)
	}
	frames := oracleFrames(t)
	cases := []struct {
		object, program, mapInit string
		lowLatency               bool
		jumbo                    bool // MTU 9000, with jumbo frames (mtu_linux_test.go)
	}{
		{firewallObject, "xdp_firewall", firewallBlocklist, false, false},
		{firewallObject, "xdp_firewall", firewallBlocklist, true, false},
		{hookObject, "xdp_udp_echo", "", false, false},
		{hookObject, "xdp_encap", "", false, false},
		{hookObject, "xdp_pass", "", false, false},
		{firewallObject, "xdp_firewall", firewallBlocklist, false, true},
		{firewallObject, "xdp_firewall", firewallBlocklist, true, true},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s/LowLatency=%v", c.program, c.lowLatency)
		frames := frames
		if c.jumbo {
			name += "/MTU=9000"
			frames = append(jumboFrames(), frames...)
		}
		t.Run(name, func(t *testing.T) {
			// A live topology can see a frame it was not sent, so a
			// disagreement is tried again on a fresh pair, up to three
			// times; a systematic difference fails every attempt.
			var diffs []string
			for attempt := 1; attempt <= 3; attempt++ {
				mid, n1 := netnstest.New(t), netnstest.New(t)
				a0, e1 := netnstest.Uniq("xo"), netnstest.Uniq("xp")
				netnstest.Veth(t, mid, a0, n1, e1)
				if c.jumbo {
					mid.IP(t, "link", "set", a0, "mtu", "9000")
					n1.IP(t, "link", "set", e1, "mtu", "9000")
				}
				kv, km := kernelRun(t, mid, n1, a0, e1, c.object, c.program, c.mapInit, frames)
				bv, bm := bpfhostRun(t, mid, n1, a0, e1, c.object, c.program, c.mapInit, c.lowLatency, frames)
				bv[xdp.Drop] += bv[xdp.Aborted]
				bv[xdp.Aborted] = 0
				if kv[xdp.Pass] == 0 && kv[xdp.TX] == 0 {
					t.Fatalf("the kernel neither passed nor returned a frame: the capture failed")
				}
				var diff []string
				if kv != bv {
					diff = append(diff, fmt.Sprintf("verdicts: kernel %v, bpfhost %v (-, DROP or ABORTED, PASS, TX, REDIRECT)", kv, bv))
				}
				if fmt.Sprint(km) != fmt.Sprint(bm) {
					diff = append(diff, fmt.Sprintf("final maps differ:\nkernel  %v\nbpfhost %v", km, bm))
				}
				if len(diff) == 0 {
					return
				}
				t.Logf("attempt %d: %s", attempt, strings.Join(diff, "\n"))
				diffs = append(diffs, strings.Join(diff, "\n"))
			}
			t.Errorf("kernel and bpfhost disagree on every attempt:\n%s", strings.Join(diffs, "\n"))
		})
	}
}

// oracleFrames are the example traffic and frames for every firewall rule
// and failure, twice over.
func oracleFrames(t *testing.T) [][]byte {
	f, err := os.Open("../../examples/traffic.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		d, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(d) >= 14 { // runts cannot be sent
			frames = append(frames, append([]byte(nil), d...))
		}
	}
	udp4 := func(src, dst net.IP, port uint16) []byte {
		b := make([]byte, 14+20+8+6)
		copy(b, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0})
		ip := b[14:]
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], 20+8+6)
		copy(ip[12:], src.To4())
		copy(ip[16:], dst.To4())
		binary.BigEndian.PutUint16(ip[20:], 4000)
		binary.BigEndian.PutUint16(ip[22:], port)
		binary.BigEndian.PutUint16(ip[24:], 8+6)
		return b
	}
	frames = append(frames,
		udp4(net.IP{203, 0, 113, 9}, net.IP{10, 0, 0, 1}, 53),                                           // rule 1
		udp4(net.IP{198, 51, 100, 9}, net.IP{10, 0, 0, 1}, 7),                                           // rule 2
		udp4(net.IP{10, 1, 2, 3}, net.IP{10, 0, 0, 1}, 7),                                               // allowed, port 7
		[]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, 0x45, 0},                                       // truncated IPv4
		append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 6}, make([]byte, 28)...), // ARP
	)
	return append(frames, frames...)
}

// inject sends frames out of dev in ns with a packet socket. A frame the
// kernel refuses with ENOBUFS (the CPU's input backlog is full, on a
// machine flooded by others) was not sent: it is sent again.
func inject(t *testing.T, ns *netnstest.NS, dev string, frames [][]byte) {
	t.Helper()
	fd := ns.PacketSocket(t, dev, false)
	for i, f := range frames {
		for deadline := time.Now().Add(settle); ; time.Sleep(time.Millisecond) {
			_, err := unix.Write(fd, f)
			if err == nil {
				break
			}
			if err != unix.ENOBUFS || time.Now().After(deadline) {
				t.Fatalf("frame %d: %v", i, err)
			}
		}
	}
}

func kernelRun(t *testing.T, mid, n1 *netnstest.NS, a0, e1, object, program, mapInit string, frames [][]byte) ([5]uint64, map[string][]string) {
	t.Helper()
	coll, prog := xdptest.LoadKernel(t, object, program, mapInit)
	// The kernel's verdicts, seen from outside: frames the program passed
	// reach the packet taps of a0 (generic XDP runs before them), frames
	// it sent back (XDP_TX) arrive on e1, the rest were dropped.
	passed := capture(t, mid, a0)
	returned := capture(t, n1, e1)
	xdptest.EnableRunStats(t)
	xl := xdptest.AttachGeneric(t, mid, prog, a0)
	inject(t, n1, e1, frames)
	// The captures count until quiet: on a busy machine the kernel may
	// not have run the program on every frame yet.
	xdptest.WaitRuns(prog, len(frames))
	var v [5]uint64
	v[xdp.Pass] = uint64(countFrames(passed))
	v[xdp.TX] = uint64(countFrames(returned))
	v[xdp.Drop] = uint64(len(frames)) - v[xdp.Pass] - v[xdp.TX]
	xl.Close()
	return v, kernelMaps(t, coll)
}

// kernelMaps lists the kernel maps' entries as "key=value" in order, with
// per-CPU values summed.
func kernelMaps(t *testing.T, coll *ebpf.Collection) map[string][]string {
	out := map[string][]string{}
	for name, m := range coll.Maps {
		if name == ".rodata" || name == ".bss" || name == ".data" {
			continue
		}
		var entries []string
		var k []byte
		it := m.Iterate()
		if m.Type() == ebpf.PerCPUArray || m.Type() == ebpf.PerCPUHash {
			var vals [][]byte
			for it.Next(&k, &vals) {
				entries = append(entries, hex.EncodeToString(k)+"="+sumPerCPU(vals))
			}
		} else {
			var val []byte
			for it.Next(&k, &val) {
				entries = append(entries, hex.EncodeToString(k)+"="+hex.EncodeToString(val))
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		sort.Strings(entries)
		out[name] = entries
	}
	return out
}

// sumPerCPU adds per-CPU values as little-endian u64 words.
func sumPerCPU(vals [][]byte) string {
	if len(vals) == 0 {
		return ""
	}
	sum := make([]byte, len(vals[0]))
	for _, v := range vals {
		for w := 0; w+8 <= len(v); w += 8 {
			binary.LittleEndian.PutUint64(sum[w:], binary.LittleEndian.Uint64(sum[w:])+binary.LittleEndian.Uint64(v[w:]))
		}
	}
	return hex.EncodeToString(sum)
}

func bpfhostRun(t *testing.T, mid, n1 *netnstest.NS, a0, e1, object, program, mapInit string, lowLatency bool, frames [][]byte) ([5]uint64, map[string][]string) {
	t.Helper()
	coll, prog := xdptest.Load(t, object, program, mapInit)
	l := attach(t, mid, prog, xdp.Options{Interface: a0, Workers: 2, LowLatency: lowLatency})
	inject(t, n1, e1, frames)
	s := waitStats(l, func(s xdp.Stats) bool { return s.Packets >= uint64(len(frames)) })
	l.Close()
	var v [5]uint64
	for i := range v {
		v[i] = s.Verdicts[i].Packets
	}
	return v, bpfhostMaps(t, coll)
}

// bpfhostMaps lists the maps as kernelMaps does.
func bpfhostMaps(t *testing.T, coll *bpfhost.Collection) map[string][]string {
	out := map[string][]string{}
	for name, m := range coll.Maps {
		if name == ".rodata" || name == ".bss" || name == ".data" {
			continue
		}
		var entries []string
		it := m.Iterate()
		var k, val []byte
		for it.Next(&k, &val) {
			if m.Type().PerCPU() {
				stride := (int(m.ValueSize()) + 7) &^ 7
				var vals [][]byte
				for s := 0; s+stride <= len(val); s += stride {
					vals = append(vals, val[s:s+stride])
				}
				entries = append(entries, hex.EncodeToString(k)+"="+sumPerCPU(vals)[:2*m.ValueSize()])
			} else {
				entries = append(entries, hex.EncodeToString(k)+"="+hex.EncodeToString(val))
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		sort.Strings(entries)
		out[name] = entries
	}
	return out
}

// countFrames counts the frames a capture socket receives until it is quiet
// (its receive timeout), leaving out frames the host sent.
func countFrames(fd int) int {
	buf := make([]byte, 4096)
	n := 0
	for {
		_, from, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return n
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		n++
	}
}

// TestKernelOracleRedirect: xdp_redirect_dev on both ends of the middle, a
// devmap_hash entry sending a0's frames to b0 and none for b0's (whose
// frames then pass). The kernel's generic XDP and bpfhost's bridge get the
// same frames from both sides: the same redirect and pass counts, and the
// same maps. The kernel's counts are observed: redirected frames arrive in
// n2, passed ones reach b0's taps.
//
// A live topology can see a frame it was not sent (a reply timed by the
// peers' stacks), so a disagreement is tried again on a fresh topology, up
// to three times; a systematic difference fails every attempt.
func TestKernelOracleRedirect(t *testing.T) {
	netnstest.Require(t)
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("skipping: no bpf(): %v", err)
	}
	var diffs []string
	for attempt := 1; attempt <= 3; attempt++ {
		diff := oracleRedirectOnce(t)
		if diff == "" {
			return
		}
		t.Logf("attempt %d: %s", attempt, diff)
		diffs = append(diffs, diff)
	}
	t.Errorf("kernel and bpfhost disagree on every attempt:\n%s", strings.Join(diffs, "\n"))
}

// oracleRedirectOnce runs TestKernelOracleRedirect's comparison once and
// returns how the two sides differ, or "".
func oracleRedirectOnce(t *testing.T) string {
	frames := oracleFrames(t)
	b := newBridge(t)
	a0, b0 := uint32(b.mid.Ifindex(t, b.a0)), uint32(b.mid.Ifindex(t, b.b0))

	kcoll, kprog := xdptest.LoadKernel(t, hookObject, "xdp_redirect_dev", "")
	// The kernel resolves a devmap's ifindex in the updater's namespace.
	b.mid.Do(t, func() error { return kcoll.Maps["ports"].Put(a0, b0) })
	passed := capture(t, b.mid, b.b0)
	arrived := capture(t, b.n2, b.e2)
	xdptest.EnableRunStats(t)
	la := xdptest.AttachGeneric(t, b.mid, kprog, b.a0)
	lb := xdptest.AttachGeneric(t, b.mid, kprog, b.b0)
	inject(t, b.n1, b.e1, frames)
	inject(t, b.n2, b.e2, frames)
	xdptest.WaitRuns(kprog, 2*len(frames)) // as in kernelRun
	var kv [5]uint64
	kv[xdp.Redirect] = uint64(countFrames(arrived))
	kv[xdp.Pass] = uint64(countFrames(passed))
	la.Close()
	lb.Close()
	km := kernelMaps(t, kcoll)

	coll, prog := xdptest.Load(t, hookObject, "xdp_redirect_dev", "")
	if err := coll.Maps["ports"].Update(a0, b0, 0); err != nil {
		t.Fatal(err)
	}
	l := attach(t, b.mid, prog, xdp.Options{Interface: b.a0, Peer: b.b0, Workers: 2})
	inject(t, b.n1, b.e1, frames)
	inject(t, b.n2, b.e2, frames)
	s := waitStats(l, func(s xdp.Stats) bool { return s.Packets >= uint64(2*len(frames)) })
	l.Close()
	var bv [5]uint64
	for i := range bv {
		bv[i] = s.Verdicts[i].Packets
	}
	var diff []string
	if kv != bv || kv[xdp.Redirect] != uint64(len(frames)) {
		diff = append(diff, fmt.Sprintf("verdicts: kernel %v, bpfhost %v; want %d redirected and %d passed", kv, bv, len(frames), len(frames)))
	}
	if bm := bpfhostMaps(t, coll); fmt.Sprint(km) != fmt.Sprint(bm) {
		diff = append(diff, fmt.Sprintf("final maps differ:\nkernel  %v\nbpfhost %v", km, bm))
	}
	return strings.Join(diff, "\n")
}
