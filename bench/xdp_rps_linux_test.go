package bench

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// xdpConfig says where the receive path of a0 runs in a benchmark round.
// Over veth, a frame the generator sends is received (generic XDP, or
// AF_PACKET's tpacket_rcv for bpfhost) in softirq on the generator's own
// CPU (veth_xmit queues it to the local CPU's backlog), so without RPS the
// benchmark measures how much the receive path slows the sender. With RPS
// on a0 the backlog of another CPU receives it, as a NIC's interrupt (or
// RPS) picks the receiving CPU, and the generator is pinned to a CPU of
// its own so that the two do not meet.
type xdpConfig struct {
	title string
	rps   bool
	// genCPU is the CPU the generator's thread is pinned to, rxCPU the one
	// RPS steers a0's frames to; -1: not pinned, no RPS.
	genCPU, rxCPU int
	// pin is where bpfhost's worker for rxCPU runs (RPS on): rx, other
	// (the generator's CPU) or none (where the scheduler puts it).
	pin string
}

var xdpPin = flag.String("xdp.pin", "none,other", "with RPS on, where the bpfhost worker that serves the receiving CPU runs, a table each: none (not pinned), rx (pinned to that CPU), other (pinned to the generator's)")

// xdpConfigs returns the configurations -xdp.rps selects (off, on or
// both), RPS on once for each -xdp.pin.
func xdpConfigs(t *testing.T) []xdpConfig {
	n := runtime.NumCPU()
	configs := []xdpConfig{{title: "RPS off (veth's default): a0's receive path runs in softirq on the generator's CPU", genCPU: -1, rxCPU: -1}}
	switch *xdpRPS {
	case "off":
		return configs
	case "on":
		if n < 2 {
			t.Skipf("-xdp.rps=on needs 2 CPUs, have %d", n)
		}
		configs = nil
	case "both":
		if n < 2 {
			fmt.Printf("RPS on: skipped, needs 2 CPUs (have %d)\n", n)
			return configs
		}
	default:
		t.Fatalf("-xdp.rps=%q: want off, on or both", *xdpRPS)
	}
	for _, pin := range strings.Split(*xdpPin, ",") {
		on := xdpConfig{rps: true, genCPU: 0, rxCPU: n - 1, pin: strings.TrimSpace(pin)}
		where := map[string]string{"rx": fmt.Sprintf("pinned to CPU %d, the receiving CPU", on.rxCPU),
			"other": fmt.Sprintf("pinned to CPU %d, the generator's", on.genCPU), "none": "not pinned"}[on.pin]
		if where == "" {
			t.Fatalf("-xdp.pin=%q: want a list of none, rx and other", *xdpPin)
		}
		on.title = fmt.Sprintf("RPS on, worker %s: a0's receive path steered to CPU %d (rx-0/rps_cpus %s), the generator pinned to CPU %d, bpfhost's worker for CPU %d %s\n"+
			"offered/s here: the frames CPU %d's backlog took (veth fails the send of one it refuses); gen ns/frame: the send side only (veth, the RPS flow hash, the IPIs that wake the receiving CPU)\n"+
			"rx ns/frame: CPU %d's softirq time (tick-sampled, and ksoftirqd's) per frame a0 received: the receive path (AF_PACKET, or generic XDP with the program and, for the firewall, the Linux bridge and the far side); bpfhost's workers come on top (CPU ns/frame)\n"+
			"backlog drop/s: frames CPU %d's backlog refused (full: netdev_max_backlog): the generator's, and for the kernel's firewall also those the bridge forwards to the far side; rx on CPU: its share of the frames all backlogs processed",
			on.pin, on.rxCPU, cpuMask(on.rxCPU), on.genCPU, on.rxCPU, where, on.rxCPU, on.rxCPU, on.rxCPU)
		configs = append(configs, on)
	}
	return configs
}

// workerCPUs is Options.WorkerCPUs for cfg: with fanout by CPU and as many
// workers as CPUs, worker rxCPU receives every frame.
func (cfg xdpConfig) workerCPUs() []int {
	if !cfg.rps || cfg.pin == "none" {
		return nil
	}
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = -1
	}
	switch cfg.pin {
	case "rx":
		cpus[cfg.rxCPU] = cfg.rxCPU
	case "other":
		cpus[cfg.rxCPU] = cfg.genCPU
	}
	return cpus
}

// cpuMask is the hexadecimal CPU mask of cpu as sysfs writes it (0: none).
func cpuMask(cpu int) string {
	if cpu < 0 {
		return "0"
	}
	return strconv.FormatUint(1<<cpu, 16)
}

// steer sets a0's RPS CPU mask in the middle namespace to cfg's receiving
// CPU (none when cfg.rps is false). /sys shows the devices of the
// namespace that mounted it: "ip netns exec" mounts one of the middle
// namespace's own.
func (tp *xdpTopology) steer(t *testing.T, cfg xdpConfig) {
	t.Helper()
	mask := "0"
	if cfg.rps {
		mask = cpuMask(cfg.rxCPU)
	}
	path := "/sys/class/net/" + tp.a0 + "/queues/rx-0/rps_cpus"
	out, err := exec.Command("ip", "netns", "exec", tp.mid.Name, "sh", "-c", "echo "+mask+" > "+path+" && cat "+path).CombinedOutput()
	if err != nil {
		t.Fatalf("RPS on %s: %v: %s", tp.a0, err, out)
	}
	got, err := strconv.ParseUint(strings.NewReplacer(",", "", "\n", "").Replace(string(out)), 16, 64)
	want, _ := strconv.ParseUint(mask, 16, 64)
	if err != nil || got != want {
		t.Fatalf("RPS on %s: rps_cpus reads %q after writing %s", tp.a0, out, mask)
	}
}

// pinThread pins the calling thread to cpu (nothing for -1).
func pinThread(cpu int) error {
	if cpu < 0 {
		return nil
	}
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin to CPU %d: %w", cpu, err)
	}
	return nil
}

// backlog holds the per-CPU counters of /proc/net/softnet_stat: frames the
// CPU's backlog processed and those it dropped because it was full.
type backlog struct{ processed, dropped map[int]uint64 }

// readBacklog reads /proc/net/softnet_stat (machine-wide, whatever the
// namespace): one line per CPU, hexadecimal columns, the CPU's number in
// the 13th where the kernel gives it.
func readBacklog(t *testing.T) backlog {
	t.Helper()
	f, err := os.Open("/proc/net/softnet_stat")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := backlog{processed: map[int]uint64{}, dropped: map[int]uint64{}}
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); line++ {
		col := strings.Fields(sc.Text())
		if len(col) < 2 {
			t.Fatalf("/proc/net/softnet_stat: line %q", sc.Text())
		}
		v := make([]uint64, len(col))
		for i, c := range col {
			if v[i], err = strconv.ParseUint(c, 16, 64); err != nil {
				t.Fatalf("/proc/net/softnet_stat: line %q: %v", sc.Text(), err)
			}
		}
		cpu := line
		if len(v) >= 13 {
			cpu = int(v[12])
		}
		b.processed[cpu], b.dropped[cpu] = v[0], v[1]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return b
}

// since returns, since an earlier reading, the frames cpu's backlog
// dropped and its share of the frames all backlogs processed.
func (b backlog) since(earlier backlog, cpu int) (dropped uint64, share float64) {
	var all uint64
	for c, n := range b.processed {
		all += n - earlier.processed[c]
	}
	if all > 0 {
		share = float64(b.processed[cpu]-earlier.processed[cpu]) / float64(all)
	}
	return b.dropped[cpu] - earlier.dropped[cpu], share
}

// softirqTime returns the time (ns) cpu has spent in softirq: the softirq
// column of /proc/stat (sampled by the tick: statistical over a round,
// not exact) and the run time of ksoftirqd/cpu, which takes over when
// softirqs keep coming (/proc/PID/schedstat; /proc/stat counts its time as
// the thread's, not as softirq).
func softirqTime(t *testing.T, cpu int) int64 {
	t.Helper()
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	var ns int64 = -1
	for _, line := range strings.Split(string(stat), "\n") {
		col := strings.Fields(line)
		if len(col) > 7 && col[0] == "cpu"+strconv.Itoa(cpu) {
			ticks, err := strconv.ParseInt(col[7], 10, 64)
			if err != nil {
				t.Fatalf("/proc/stat: %q: %v", line, err)
			}
			ns = ticks * 1e9 / 100 // USER_HZ
		}
	}
	if ns < 0 {
		t.Fatalf("/proc/stat: no line for cpu%d", cpu)
	}
	return ns + threadRunTime(t, ksoftirqd(t, cpu))
}

var ksoftirqdPIDs = map[int]int{}

// ksoftirqd returns the PID of ksoftirqd/cpu.
func ksoftirqd(t *testing.T, cpu int) int {
	t.Helper()
	if pid, ok := ksoftirqdPIDs[cpu]; ok {
		return pid
	}
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	want := "ksoftirqd/" + strconv.Itoa(cpu) + "\n"
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile("/proc/" + d.Name() + "/comm"); err == nil && string(comm) == want {
			ksoftirqdPIDs[cpu] = pid
			return pid
		}
	}
	t.Fatalf("no ksoftirqd/%d in /proc", cpu)
	return 0
}

// threadRunTime returns the time (ns) the thread pid has run, from the
// first field of /proc/PID/schedstat.
func threadRunTime(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
	if err != nil {
		t.Fatal(err)
	}
	col := strings.Fields(string(b))
	if len(col) == 0 {
		t.Fatalf("/proc/%d/schedstat: %q", pid, b)
	}
	ns, err := strconv.ParseInt(col[0], 10, 64)
	if err != nil {
		t.Fatalf("/proc/%d/schedstat: %q: %v", pid, b, err)
	}
	return ns
}

// rxWatch holds the receiving CPU's counters at the start of a round.
type rxWatch struct {
	tp      *xdpTopology
	cfg     xdpConfig
	backlog backlog
	softirq int64
	rx      uint64 // frames a0 received
}

func (tp *xdpTopology) watchRx(t *testing.T, cfg xdpConfig) rxWatch {
	w := rxWatch{tp: tp, cfg: cfg, backlog: readBacklog(t)}
	if cfg.rps {
		w.rx, _ = tp.linkPackets(t, tp.a0)
		w.softirq = softirqTime(t, cfg.rxCPU)
	}
	return w
}

// done returns, for a round of d, the frames per second the receiving
// CPU's backlog dropped, its share of the frames all backlogs processed,
// and (RPS on only) its softirq time per frame a0 received: the receive
// path of every frame, whether the program then ran on it or it was lost
// in a full ring.
func (w rxWatch) done(t *testing.T, d time.Duration) (drops, share, softirqPerFrame float64) {
	dropped, share := readBacklog(t).since(w.backlog, w.cfg.rxCPU)
	if w.cfg.rps {
		ns := softirqTime(t, w.cfg.rxCPU) - w.softirq
		if rx, _ := w.tp.linkPackets(t, w.tp.a0); rx > w.rx {
			softirqPerFrame = float64(ns) / float64(rx-w.rx)
		}
	}
	return float64(dropped) / d.Seconds(), share, softirqPerFrame
}
