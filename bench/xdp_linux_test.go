package bench

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

var (
	xdpBench    = flag.Bool("xdp.bench", false, "run the XDP bridge benchmark (bench/xdp.sh)")
	xdpRounds   = flag.Int("xdp.rounds", 3, "rounds of each XDP bridge configuration; the median is reported")
	xdpDuration = flag.Duration("xdp.duration", 2*time.Second, "length of one XDP throughput round")
	xdpSides    = flag.String("xdp.sides", "v3,v2,kernel", "the data paths to measure, of v3, v2 and kernel (for profiling one alone)")
	xdpPrograms = flag.String("xdp.programs", "drop-all,firewall", "the programs to measure, of drop-all and firewall")
	xdpLatency  = flag.Bool("xdp.latency", true, "measure the added round-trip latency too")
	xdpFlowHash = flag.Bool("xdp.flowhash", false, "bpfhost fans out by flow hash (Options.FlowHash) instead of by receiving CPU")
	xdpBatch    = flag.Int("xdp.batch", 0, "the most frames a bpfhost worker runs in one slot (Options.Batch; 0: its default)")
	xdpRPS      = flag.String("xdp.rps", "both", "where a0's receive path runs: off (veth's default: in softirq on the generator's CPU), on (steered by RPS to another CPU, the generator pinned), or both, interleaved")
)

// xdpSelected reports whether name is in the comma-separated list.
func xdpSelected(list, name string) bool {
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == name {
			return true
		}
	}
	return false
}

// xdpTopology is n1 -- (a0 | mid | b0) -- n2: the generator sends from n1
// through a0; bpfhost bridges a0 and b0, the kernel's generic XDP runs on
// a0.
type xdpTopology struct {
	mid, n1, n2    *netnstest.NS
	a0, b0, e1, e2 string
	mac1, mac2     net.HardwareAddr
}

// TestXDPBridgeBench measures frames per second through bpfhost's XDP
// bridge with a drop-all program and with the firewall example, beside the
// kernel's generic XDP with the same objects on the same veth end (and a
// Linux bridge forwarding what it passes), fed by the same generator; and the round-trip latency of UDP through the bpfhost
// bridge beside a Linux bridge on the same veth pair. It runs only with
// -xdp.bench (bench/xdp.sh).
func TestXDPBridgeBench(t *testing.T) {
	if !*xdpBench {
		t.Skip("run with -xdp.bench (bench/xdp.sh)")
	}
	netnstest.Require(t)
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("no bpf(): %v", err)
	}
	// BPF run statistics cost generic XDP two clock reads per frame (about
	// 50 ns here, 3% of drop-all's path): they are on only while
	// kernelRound measures the program's run time, never while rates are
	// measured.
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Skipf("no BPF run statistics: %v", err)
	}
	stats.Close()
	tp := &xdpTopology{mid: netnstest.New(t), n1: netnstest.New(t), n2: netnstest.New(t),
		a0: netnstest.Uniq("ba"), b0: netnstest.Uniq("bb"), e1: netnstest.Uniq("be"), e2: netnstest.Uniq("bf")}
	netnstest.Veth(t, tp.mid, tp.a0, tp.n1, tp.e1)
	netnstest.Veth(t, tp.mid, tp.b0, tp.n2, tp.e2)
	tp.n1.IP(t, "addr", "add", "10.78.0.1/24", "dev", tp.e1)
	tp.n2.IP(t, "addr", "add", "10.78.0.2/24", "dev", tp.e2)
	tp.mac1, tp.mac2 = tp.n1.MAC(t, tp.e1), tp.n2.MAC(t, tp.e2)
	tp.n1.IP(t, "neigh", "replace", "10.78.0.2", "lladdr", tp.mac2.String(), "dev", tp.e1, "nud", "permanent")
	tp.n2.IP(t, "neigh", "replace", "10.78.0.1", "lladdr", tp.mac1.String(), "dev", tp.e2, "nud", "permanent")

	progs := []struct{ label, object, program, mapInit string }{
		{"drop-all", "../hooks/xdp/testdata/hook.o", "xdp_drop", ""},
		{"firewall", "../examples/firewall.o", "xdp_firewall", "../examples/firewall-blocklist.json"},
	}
	configs := xdpConfigs(t)
	fmt.Printf("XDP bridge benchmark: %d rounds of %v (sides interleaved in each round), medians; 64-byte UDP frames from one generator thread; %d CPUs\n",
		*xdpRounds, *xdpDuration, runtime.NumCPU())
	fmt.Printf("CPU ns/frame: bpfhost: its workers' threads' CPU time (Stats.CPUTime: receive, run, send, and the far side's receive path the sends run), per frame run; kernel: the program's run time only (BPF stats), per run\n")
	fmt.Printf("gen ns/frame: the generator thread's CPU time per frame sent: the sender's side of veth, where the receive path (AF_PACKET or generic XDP) runs in softirq; gen CPU: its share of one CPU\n")
	// res[program][config][side] holds per round: frames/s run, offered,
	// forwarded, ring drops, CPU ns per frame, generator ns per frame
	// sent, generator CPU share, backlog drops on the receiving CPU, its
	// share of the frames all backlogs processed and its softirq ns per
	// frame (RPS on only);
	// sides: bpfhost V3, bpfhost V2, kernel. The configurations are
	// interleaved within each round as the sides are, so that all see the
	// same load, and each round starts with the next configuration and
	// side: what one leaves behind (the scheduler's placement of other
	// processes, caches) falls on each in turn.
	res := make([][][3][10][]float64, len(progs))
	for i, p := range progs {
		if !xdpSelected(*xdpPrograms, p.label) {
			continue
		}
		res[i] = make([][3][10][]float64, len(configs))
		for r := 0; r < *xdpRounds; r++ {
			for cc := range configs {
				c := (cc + r) % len(configs)
				cfg := configs[c]
				tp.steer(t, cfg)
				for ss := 0; ss < 3; ss++ {
					side := (ss + r) % 3
					if !xdpSelected(*xdpSides, []string{"v3", "v2", "kernel"}[side]) {
						continue
					}
					w := tp.watchRx(t, cfg)
					var v [10]float64
					if side == 2 {
						v[0], v[1], v[2], v[4], v[5], v[6] = tp.kernelRound(t, p.object, p.program, p.mapInit, cfg)
					} else {
						v[0], v[1], v[2], v[3], v[4], v[5], v[6] = tp.bpfhostRound(t, p.object, p.program, p.mapInit, side == 1, cfg)
					}
					v[7], v[8], v[9] = w.done(t, *xdpDuration)
					for k := range v {
						res[i][c][side][k] = append(res[i][c][side][k], v[k])
					}
				}
			}
		}
	}
	tp.steer(t, xdpConfig{genCPU: -1, rxCPU: -1})
	for c, cfg := range configs {
		fmt.Printf("\n%s\n", cfg.title)
		extra := ""
		if cfg.rps {
			extra = fmt.Sprintf(" %12s %14s %10s", "rx ns/frame", "backlog drop/s", "rx on CPU")
		}
		fmt.Printf("%-10s %-22s %14s %14s %12s %12s %13s %13s %8s%s\n", "program", "data path", "frames/s run", "offered/s", "forwarded/s", "ring drop/s", "CPU ns/frame", "gen ns/frame", "gen CPU", extra)
		for i, p := range progs {
			if res[i] == nil {
				continue
			}
			rounds := &res[i][c]
			for side, name := range []string{"bpfhost bridge V3", "bpfhost bridge V2", "kernel XDP + bridge"} {
				m := &rounds[side]
				if len(m[0]) == 0 {
					continue // not selected (-xdp.sides)
				}
				if cfg.rps {
					extra = fmt.Sprintf(" %12.0f %14.0f %9.0f%%", median(m[9]), median(m[7]), 100*median(m[8]))
				}
				fmt.Printf("%-10s %-22s %14.0f %14.0f %12.0f %12.0f %13.0f %13.0f %7.0f%%%s\n", p.label, name, median(m[0]), median(m[1]), median(m[2]), median(m[3]), median(m[4]), median(m[5]), 100*median(m[6]), extra)
			}
			if len(rounds[2][0]) == 0 {
				continue
			}
			k := median(rounds[2][0])
			for side, name := range []string{"V3", "V2"} {
				if len(rounds[side][0]) == 0 {
					continue
				}
				lo, med, hi := ratioSpread(rounds[side][0], rounds[2][0])
				fmt.Printf("%-10s %-22s %14s\n", p.label, "ratio to kernel "+name, fmt.Sprintf("of medians %.2f; per round min %.2f median %.2f max %.2f", median(rounds[side][0])/k, lo, med, hi))
			}
			// For a program that passes frames, what reaches the far side
			// is the rate through the bridge: a frame the kernel ran but
			// then lost in the far side's backlog (RPS on: the receiving
			// CPU's backlog also takes the bridge's forwarded frames) did
			// not get through, nor did one bpfhost's ring dropped.
			if kf := median(rounds[2][2]); kf > k/10 { // not drop-all's stray frames
				for side, name := range []string{"V3", "V2"} {
					if len(rounds[side][2]) == 0 {
						continue
					}
					lo, med, hi := ratioSpread(rounds[side][2], rounds[2][2])
					fmt.Printf("%-10s %-22s %14s\n", p.label, "forwarded/kernel "+name, fmt.Sprintf("of medians %.2f; per round min %.2f median %.2f max %.2f", median(rounds[side][2])/kf, lo, med, hi))
				}
			}
		}
	}

	if !*xdpLatency {
		return
	}
	bridgeRTT := tp.latency(t, "")
	fmt.Printf("\nUDP round trip n1 -> n2 -> n1, 1000 probes; added per frame = (RTT - Linux bridge RTT) / 2\n")
	fmt.Printf("%-28s %10s %10s %14s %14s\n", "middle", "p50", "p99", "added p50", "added p99")
	fmt.Printf("%-28s %10v %10v\n", "Linux bridge", pct(bridgeRTT, 50), pct(bridgeRTT, 99))
	for _, mode := range []string{"v3", "v2"} {
		rtt := tp.latency(t, mode)
		fmt.Printf("%-28s %10v %10v %14v %14v\n", "bpfhost bridge, TPACKET_"+mode, pct(rtt, 50), pct(rtt, 99),
			(pct(rtt, 50)-pct(bridgeRTT, 50))/2, (pct(rtt, 99)-pct(bridgeRTT, 99))/2)
	}
}

// ratioSpread returns the least, median and greatest of the per-round
// ratios a[i]/b[i]: how far one round's ratio strays on a loaded machine.
func ratioSpread(a, b []float64) (lo, med, hi float64) {
	var r []float64
	for i := range a {
		if i < len(b) && b[i] > 0 {
			r = append(r, a[i]/b[i])
		}
	}
	if len(r) == 0 {
		return 0, 0, 0
	}
	sort.Float64s(r)
	return r[0], median(r), r[len(r)-1]
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[(len(s)-1)*p/100]
}

// generate sends 64-byte UDP frames from e1 as fast as one thread can for
// d (its thread pinned to cfg.genCPU, if any) and returns the frames per
// second sent and the CPU time (ns) the generator's thread used.
func (tp *xdpTopology) generate(t *testing.T, d time.Duration, cfg xdpConfig) (float64, int64) {
	frame := make([]byte, 60)
	copy(frame, tp.mac2)
	copy(frame[6:], tp.mac1)
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	ip := frame[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], 46)
	copy(ip[12:], []byte{10, 78, 0, 1, 10, 78, 0, 2})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	sum = sum&0xffff + sum>>16
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum+sum>>16))
	binary.BigEndian.PutUint16(ip[20:], 4000)
	binary.BigEndian.PutUint16(ip[22:], 9) // discard
	binary.BigEndian.PutUint16(ip[24:], 26)
	var sent uint64
	var genCPU int64
	fd := tp.n1.PacketSocket(t, tp.e1, false)
	tp.n1.Do(t, func() error { // the generator's thread in n1, discarded after
		if err := pinThread(cfg.genCPU); err != nil {
			return err
		}
		if cfg.rps {
			// With RPS the frames wait in the receiving CPU's backlog,
			// charged to this socket's send buffer: a full buffer would
			// put the generator to sleep until that CPU catches up. A
			// NIC's sender is not slowed by the receiver; here, as
			// there, what the receiving CPU cannot take is dropped
			// (backlog drops). Without RPS the receive path runs before
			// sendmmsg returns, and the buffer never fills.
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 1<<30); err != nil {
				return fmt.Errorf("SO_SNDBUFFORCE: %w", err)
			}
		}
		_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
		const batch = 64
		var iov [batch]unix.Iovec
		var msgs [batch]unix.Mmsghdr
		for i := range msgs {
			iov[i] = unix.Iovec{Base: &frame[0], Len: uint64(len(frame))}
			msgs[i].Hdr.Iov, msgs[i].Hdr.Iovlen = &iov[i], 1
		}
		start := threadCPUTime()
		defer func() { genCPU = threadCPUTime() - start }()
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), batch, 0, 0, 0)
			if errno == 0 {
				sent += uint64(r)
			}
		}
		runtime.KeepAlive(&msgs)
		return nil
	})
	return float64(sent) / d.Seconds(), genCPU
}

// threadCPUTime returns the CPU time (ns) the calling thread has used.
func threadCPUTime() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// genCost is the generator's CPU time per frame sent and its share of one
// CPU over d.
func genCost(offered float64, genCPU int64, d time.Duration) (perFrame, share float64) {
	if offered > 0 {
		perFrame = float64(genCPU) / (offered * d.Seconds())
	}
	return perFrame, float64(genCPU) / float64(d.Nanoseconds())
}

func (tp *xdpTopology) bpfhostRound(t *testing.T, object, program, mapInit string, lowLatency bool, cfg xdpConfig) (ran, offered, forwarded, ringDrops, cpuPerFrame, genPerFrame, genShare float64) {
	_, prog := xdptest.Load(t, object, program, mapInit)
	var l *xdp.Link
	tp.mid.Do(t, func() (err error) {
		l, err = xdp.Attach(prog, xdp.Options{Interface: tp.a0, Peer: tp.b0, LowLatency: lowLatency, FlowHash: *xdpFlowHash, WorkerCPUs: cfg.workerCPUs(), Batch: *xdpBatch})
		return err
	})
	offered, genCPU := tp.generate(t, *xdpDuration, cfg)
	time.Sleep(50 * time.Millisecond) // let the rings drain
	l.Close()
	s := l.Stats()
	sec := xdpDuration.Seconds()
	if s.Packets > 0 {
		cpuPerFrame = float64(s.CPUTime.Nanoseconds()) / float64(s.Packets)
	}
	genPerFrame, genShare = genCost(offered, genCPU, *xdpDuration)
	return float64(s.Packets) / sec, offered, float64(s.Sent) / sec, float64(s.RingDrops) / sec, cpuPerFrame, genPerFrame, genShare
}

func (tp *xdpTopology) kernelRound(t *testing.T, object, program, mapInit string, cfg xdpConfig) (ran, offered, forwarded, progPerRun, genPerFrame, genShare float64) {
	_, prog := xdptest.LoadKernel(t, object, program, mapInit)
	// The kernel's bump in the wire: generic XDP on a0, whose passed
	// frames a Linux bridge forwards to b0.
	defer tp.linuxBridge(t)()
	l := xdptest.AttachGeneric(t, tp.mid, prog, tp.a0)
	defer l.Close()
	// Generic XDP runs the program once for each frame veth hands a0's
	// receive path, which is what a0 counts as received (a frame RPS
	// cannot queue is counted as veth's drop instead).
	rxBefore, _ := tp.linkPackets(t, tp.a0)
	txBefore := tp.txPackets(t)
	offered, genCPU := tp.generate(t, *xdpDuration, cfg)
	time.Sleep(50 * time.Millisecond)
	rxAfter, _ := tp.linkPackets(t, tp.a0)
	sec := xdpDuration.Seconds()
	ran = float64(rxAfter-rxBefore) / sec
	forwarded = float64(tp.txPackets(t)-txBefore) / sec
	genPerFrame, genShare = genCost(offered, genCPU, *xdpDuration)
	return ran, offered, forwarded, tp.kernelRunTime(t, prog, cfg), genPerFrame, genShare
}

// kernelRunTime measures the program's run time per frame with BPF run
// statistics on, for a fifth of a round after the rate was measured
// without them.
func (tp *xdpTopology) kernelRunTime(t *testing.T, prog *ebpf.Program, cfg xdpConfig) float64 {
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Fatalf("BPF run statistics: %v", err)
	}
	defer stats.Close()
	before, err := prog.Stats()
	if err != nil {
		t.Fatal(err)
	}
	tp.generate(t, *xdpDuration/5, cfg)
	time.Sleep(50 * time.Millisecond)
	after, err := prog.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if runs := after.RunCount - before.RunCount; runs > 0 {
		return float64(after.Runtime-before.Runtime) / float64(runs)
	}
	return 0
}

// txPackets reads b0's transmitted packet count.
func (tp *xdpTopology) txPackets(t *testing.T) uint64 {
	_, tx := tp.linkPackets(t, tp.b0)
	return tx
}

// linkPackets reads the received and transmitted packet counts of dev in
// the middle namespace.
func (tp *xdpTopology) linkPackets(t *testing.T, dev string) (rx, tx uint64) {
	// /sys shows the mounting namespace's devices: ask netlink instead.
	out, err := exec.Command("ip", "-n", tp.mid.Name, "-s", "-j", "link", "show", dev).Output()
	if err != nil {
		t.Fatalf("ip -s -j link show %s: %v", dev, err)
	}
	var links []struct {
		Stats64 struct {
			RX struct{ Packets uint64 } `json:"rx"`
			TX struct{ Packets uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -s -j link show %s: %q: %v", dev, out, err)
	}
	return links[0].Stats64.RX.Packets, links[0].Stats64.TX.Packets
}

// linuxBridge joins a0 and b0 in a Linux bridge; the returned function
// takes it apart.
func (tp *xdpTopology) linuxBridge(t *testing.T) func() {
	br := netnstest.Uniq("br")
	tp.mid.IP(t, "link", "add", br, "type", "bridge")
	tp.mid.IP(t, "link", "set", tp.a0, "master", br)
	tp.mid.IP(t, "link", "set", tp.b0, "master", br)
	tp.mid.IP(t, "link", "set", br, "up")
	time.Sleep(100 * time.Millisecond)
	return func() {
		tp.mid.IP(t, "link", "set", tp.a0, "nomaster")
		tp.mid.IP(t, "link", "set", tp.b0, "nomaster")
		tp.mid.IP(t, "link", "del", br)
	}
}

// latency measures UDP round trips n1 -> n2 -> n1 through the middle:
// bpfhost bridging a0 and b0 with xdp_pass and TPACKET_V3 ("v3") or V2
// ("v2") rings, or a Linux bridge of a0 and b0 ("").
func (tp *xdpTopology) latency(t *testing.T, ring string) []time.Duration {
	if ring != "" {
		_, prog := xdptest.Load(t, "../hooks/xdp/testdata/hook.o", "xdp_pass", "")
		var l *xdp.Link
		tp.mid.Do(t, func() (err error) {
			l, err = xdp.Attach(prog, xdp.Options{Interface: tp.a0, Peer: tp.b0, LowLatency: ring == "v2"})
			return err
		})
		defer l.Close()
	} else {
		defer tp.linuxBridge(t)()
	}
	var echo, c *net.UDPConn
	tp.n2.Do(t, func() (err error) {
		echo, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IP{10, 78, 0, 2}, Port: 7007})
		return err
	})
	defer echo.Close()
	var stop atomic.Bool
	go func() {
		buf := make([]byte, 64)
		for !stop.Load() {
			n, from, err := echo.ReadFromUDP(buf)
			if err != nil {
				return
			}
			echo.WriteToUDP(buf[:n], from)
		}
	}()
	defer stop.Store(true)
	tp.n1.Do(t, func() (err error) {
		c, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IP{10, 78, 0, 2}, Port: 7007})
		return err
	})
	defer c.Close()
	var rtts []time.Duration
	buf := make([]byte, 64)
	for i := 0; i < 1000; i++ {
		start := time.Now()
		c.Write([]byte("probe"))
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Read(buf); err != nil {
			continue
		}
		rtts = append(rtts, time.Since(start))
	}
	if len(rtts) < 900 {
		t.Errorf("only %d of 1000 probes came back", len(rtts))
	}
	return rtts
}
