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
}

// xdpConfigs returns the configurations -xdp.rps selects: off, on or both.
func xdpConfigs(t *testing.T) []xdpConfig {
	off := xdpConfig{title: "RPS off (veth's default): a0's receive path runs in softirq on the generator's CPU", genCPU: -1, rxCPU: -1}
	n := runtime.NumCPU()
	on := xdpConfig{rps: true, genCPU: 0, rxCPU: n - 1}
	on.title = fmt.Sprintf("RPS on: a0's receive path steered to CPU %d (rx-0/rps_cpus %s), the generator pinned to CPU %d; backlog drop/s: frames the receiving CPU's backlog dropped (netdev_max_backlog), rx on CPU: its share of the backlog's frames", on.rxCPU, cpuMask(on.rxCPU), on.genCPU)
	switch *xdpRPS {
	case "off":
		return []xdpConfig{off}
	case "on", "both":
		if n < 2 {
			if *xdpRPS == "on" {
				t.Skipf("-xdp.rps=on needs 2 CPUs, have %d", n)
			}
			fmt.Printf("RPS on: skipped, needs 2 CPUs (have %d)\n", n)
			return []xdpConfig{off}
		}
		if *xdpRPS == "on" {
			return []xdpConfig{on}
		}
		return []xdpConfig{off, on}
	}
	t.Fatalf("-xdp.rps=%q: want off, on or both", *xdpRPS)
	return nil
}

var xdpPin = flag.String("xdp.pin", "", "with RPS on, pin the worker that serves the receiving CPU: rx (to that CPU), gen (to the generator's CPU); empty: not pinned")

// workerCPUs is Options.WorkerCPUs for cfg (-xdp.pin): with fanout by CPU
// and as many workers as CPUs, worker rxCPU receives every frame.
func (cfg xdpConfig) workerCPUs() []int {
	if !cfg.rps || *xdpPin == "" {
		return nil
	}
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = -1
	}
	switch *xdpPin {
	case "rx":
		cpus[cfg.rxCPU] = cfg.rxCPU
	case "gen":
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
