package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// kernelCgroup attaches programs of sockObj to a fresh cgroup v2 and runs
// the client in it: the kernel as the oracle of bpfhost exec. It returns
// the client's output and the final counts map.
// kernelTag tags the datagrams of the client's runs under the kernel's
// cgroup programs (datagramTag).
const kernelTag = "k"

func kernelCgroup(t *testing.T, attach map[string]ebpf.AttachType, args ...string) (string, [4]uint64) {
	t.Helper()
	var c [4]uint64
	out := kernelCgroupObj(t, sockObj, attach, func(coll *ebpf.Collection) {
		for k := uint32(0); k < 4; k++ {
			if err := coll.Maps["counts"].Lookup(k, &c[k]); err != nil {
				t.Fatal(err)
			}
		}
	}, args...)
	return out, c
}

// kernelCgroupObj is kernelCgroup for the programs of obj: it returns the
// client's output and hands the collection to maps before closing it.
func kernelCgroupObj(t *testing.T, obj string, attach map[string]ebpf.AttachType, maps func(*ebpf.Collection), args ...string) string {
	t.Helper()
	root := "/sys/fs/cgroup/unified"
	if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
		root = "/sys/fs/cgroup"
	}
	dir := filepath.Join(root, fmt.Sprintf("bpfhost-exec-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("no cgroup v2 to attach to: %v", err)
	}
	defer os.Remove(dir)
	spec, err := ebpf.LoadCollectionSpec(obj)
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Skipf("kernel refuses the object: %v", err)
	}
	defer coll.Close()
	for _, name := range sortedNames(attach) {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: dir, Attach: attach[name], Program: coll.Programs[name]})
		if err != nil {
			t.Skipf("attach %s to a cgroup: %v", name, err)
		}
		defer l.Close()
	}
	cg, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), clientEnv+"="+kernelTag)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("client in the cgroup: %v\n%s", err, out)
	}
	maps(coll)
	return string(out)
}

// TestExecAgreesWithKernel runs the same client under bpfhost exec and in a
// cgroup with the same objects attached by the kernel: the outcomes, what
// the servers saw, and the maps must be the same.
func TestExecAgreesWithKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("attaching cgroup programs needs root")
	}
	if testing.Short() {
		t.Skip("runs a dozen supervised commands")
	}
	cases := []struct {
		name   string
		attach map[string]ebpf.AttachType
		args   []string
	}{
		{"deny", map[string]ebpf.AttachType{"deny_port": ebpf.AttachCGroupInet4Connect, "deny_port6": ebpf.AttachCGroupInet6Connect},
			[]string{"connect", "127.0.0.1:9", "connect", "127.0.0.1:10", "connect-nb", "127.0.0.1:9", "connect-nb", "127.0.0.1:10",
				"connect6", "[::ffff:127.0.0.1]:9", "connect6", "[::ffff:127.0.0.1]:10", "connect6", "[::1]:9", "connect6", "[::1]:10"}},
		{"redirect", map[string]ebpf.AttachType{"redirect": ebpf.AttachCGroupInet4Connect},
			[]string{"connect", "127.0.0.1:9", "connect", "127.0.0.1:10"}},
		// Programs run in attach order (here by name), all of them even
		// after one refused.
		{"two_programs", map[string]ebpf.AttachType{"redirect": ebpf.AttachCGroupInet4Connect, "deny_port": ebpf.AttachCGroupInet4Connect},
			[]string{"connect", "127.0.0.1:9", "connect", "127.0.0.1:10"}},
		{"two_programs_redirect_first", map[string]ebpf.AttachType{"redirect": ebpf.AttachCGroupInet4Connect, "who": ebpf.AttachCGroupInet4Connect},
			[]string{"connect", "127.0.0.1:9"}},
		{"fastopen", map[string]ebpf.AttachType{"deny_port": ebpf.AttachCGroupInet4Connect},
			[]string{"fastopen", "127.0.0.1:9", "fastopen", "127.0.0.1:10"}},
		{"fastopen_redirect", map[string]ebpf.AttachType{"redirect": ebpf.AttachCGroupInet4Connect},
			[]string{"fastopen", "127.0.0.1:9"}},
		{"udp", map[string]ebpf.AttachType{"redirect_udp": ebpf.AttachCGroupUDP4Sendmsg},
			[]string{"sendto", "127.0.0.1:9", "sendmsg", "127.0.0.1:9", "sendmsg6", "[::ffff:127.0.0.1]:9", "sendto", "127.0.0.1:10",
				"sendmmsg", "127.0.0.1:9"}},
		{"getpeername", map[string]ebpf.AttachType{"redirect": ebpf.AttachCGroupInet4Connect, "hide_redirect": ebpf.AttachCgroupInet4GetPeername},
			[]string{"names", "127.0.0.1:9", "names", "127.0.0.1:10"}},
		{"getsockname", map[string]ebpf.AttachType{"local_port": ebpf.AttachCgroupInet4GetSockname},
			[]string{"names", "127.0.0.1:10", "bind", "127.0.0.1:0"}},
		{"bpf_bind", map[string]ebpf.AttachType{"bind_source": ebpf.AttachCGroupInet4Connect},
			[]string{"names", "127.0.0.1:10", "names", "127.0.0.1:10"}},
		{"sock_create", map[string]ebpf.AttachType{"no_udp": ebpf.AttachCGroupInetSockCreate},
			[]string{"socket", "tcp4", "socket", "udp4", "socket", "udp6", "socket", "tcp6", "connect", "127.0.0.1:10"}},
		{"sock_create_mark", map[string]ebpf.AttachType{"mark_tcp": ebpf.AttachCGroupInetSockCreate},
			[]string{"socket", "tcp4", "socket", "udp4", "socket", "tcp6", "connect", "127.0.0.1:10"}},
		{"post_bind", map[string]ebpf.AttachType{"even_ports": ebpf.AttachCGroupInet4PostBind, "even_ports6": ebpf.AttachCGroupInet6PostBind},
			[]string{"rebind", "127.0.0.1:28786", "127.0.0.1:28785", "rebind", "127.0.0.1:28787", "127.0.0.1:28785",
				"rebind", "127.0.0.2:28789", "127.0.0.1:28793", "rebind", "[::1]:28788", "[::1]:28791"}},
		{"bind", map[string]ebpf.AttachType{"low_binds": ebpf.AttachCGroupInet4Bind, "low_binds6": ebpf.AttachCGroupInet6Bind},
			[]string{"bind", "127.0.0.1:80", "bind", "127.0.0.1:0", "bind", "127.0.0.1:28782", "bind", "[::1]:443", "bind", "[::1]:28783"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { agreeWithKernel(t, tc.attach, tc.args) })
	}
}

// attachTypeNames are the --attach TYPEs of the kernel's attach types.
var attachTypeNames = map[ebpf.AttachType]string{
	ebpf.AttachCGroupInet4Connect: "cgroup/connect4", ebpf.AttachCGroupInet6Connect: "cgroup/connect6",
	ebpf.AttachCGroupUDP4Sendmsg: "cgroup/sendmsg4", ebpf.AttachCGroupUDP6Sendmsg: "cgroup/sendmsg6",
	ebpf.AttachCGroupInet4Bind: "cgroup/bind4",
	ebpf.AttachCGroupInet6Bind: "cgroup/bind6", ebpf.AttachCgroupInet4GetPeername: "cgroup/getpeername4",
	ebpf.AttachCgroupInet4GetSockname: "cgroup/getsockname4", ebpf.AttachCGroupInetSockCreate: "cgroup/sock_create",
	ebpf.AttachCGroupInet4PostBind: "cgroup/post_bind4", ebpf.AttachCGroupInet6PostBind: "cgroup/post_bind6"}

// agreeWithKernel runs the client with args in a cgroup with the programs
// of sockObj attached by the kernel, then under bpfhost exec with the same
// programs: the outcomes, what the servers saw and the counts map must be
// the same.
func agreeWithKernel(t *testing.T, attachTypes map[string]ebpf.AttachType, args []string) {
	t.Helper()
	var attach []string
	for _, name := range sortedNames(attachTypes) {
		attach = append(attach, attachTypeNames[attachTypes[name]]+"="+sockObj+":"+name)
	}
	nine, ten := servers(t)
	kOut, kCounts := kernelCgroup(t, attachTypes, client(args...)...)
	// A server counts a connection before it answers, and the
	// client reads every answer before it exits: the accepts of
	// a run are counted once it has ended. Datagrams are
	// delivered in loopback's softirq, which a busy machine can
	// run after the client exited (a fixed 100 ms was not
	// always enough): each run's are told apart by their tag
	// and counted once the runs agree, or settle passed.
	kAccepts := [2]int{int(nine.accepted.Load()), int(ten.accepted.Load())}
	out, code, rep := bpfhostExec(t, attach, client(args...)...)
	if code != 0 {
		t.Fatalf("bpfhost exec: exit %d: %s", code, out)
	}
	var kSeen, seen [4]int
	for deadline := time.Now().Add(settle); ; time.Sleep(10 * time.Millisecond) {
		kSeen = [4]int{kAccepts[0], kAccepts[1], nine.tagged(kernelTag), ten.tagged(kernelTag)}
		seen = [4]int{int(nine.accepted.Load()) - kAccepts[0], int(ten.accepted.Load()) - kAccepts[1], nine.tagged("1"), ten.tagged("1")}
		if seen == kSeen || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("outcomes: %q", out)
	if out != kOut {
		t.Errorf("outcomes differ:\nbpfhost: %q\nkernel:  %q", out, kOut)
	}
	if c := counts(t, rep); c != kCounts {
		t.Errorf("counts map: bpfhost %v, kernel %v", c, kCounts)
	}
	if seen != kSeen {
		t.Errorf("servers saw (accepts 9, 10, datagrams 9, 10): bpfhost %v, kernel %v", seen, kSeen)
	}
}

var (
	execBench        = flag.Int("exec.bench", 0, "TestExecBenchmark: time this many connect() and bind() calls in each setting")
	execBenchRounds  = flag.Int("exec.bench.rounds", 1, "TestExecBenchmark: alternate the settings this many times")
	execBenchAgainst = flag.String("exec.bench.against", "", "TestExecBenchmark: also time these bpfhost binaries (comma-separated: an older build, say, or bench/execfloor's supervisors), each run as BIN exec --report R --attach ... -- COMMAND")
)

// TestExecBenchmark measures connect(), bind() and recvfrom() on loopback
// unsupervised, under bpfhost exec (and under each -exec.bench.against), and
// under the kernel's cgroup programs: medians of -exec.bench calls each, in
// -exec.bench.rounds alternating rounds, then the median over the rounds of
// each median and of each round's ratio to the unsupervised call. The
// issue's target: supervised connect() at most twice the unsupervised one.
// "connect" goes to a server in this process, which each connection wakes;
// "quiet connect" to a listener of the client's own that nobody waits on
// (see benchCalls), which leaves out the server's scheduling.
func TestExecBenchmark(t *testing.T) {
	if *execBench == 0 {
		t.Skip("run with -exec.bench=N")
	}
	_, _ = servers(t)
	args := client("bench", strconv.Itoa(*execBench), "127.0.0.1:10")
	both := []string{"cgroup/connect4=" + sockObj + ":deny_port", "cgroup/bind4=" + sockObj + ":low_binds", "cgroup/recvmsg4=" + sockObj + ":restore_udp"}
	settings := []string{"unsupervised", "bpfhost exec"}
	if *execBenchAgainst != "" {
		settings = append(settings, strings.Split(*execBenchAgainst, ",")...)
	}
	settings = append(settings, "kernel cgroup prog")
	run := func(setting string) string {
		switch setting {
		case "unsupervised":
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Env = append(os.Environ(), clientEnv+"=1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			return string(out)
		case "kernel cgroup prog":
			out, _ := kernelCgroup(t, map[string]ebpf.AttachType{"deny_port": ebpf.AttachCGroupInet4Connect, "low_binds": ebpf.AttachCGroupInet4Bind, "restore_udp": ebpf.AttachCGroupUDP4Recvmsg}, args...)
			return out
		default: // bpfhost exec, or a binary of -exec.bench.against
			bin := setting
			if setting == "bpfhost exec" {
				bin = bpfhostBinary(t)
			}
			out, code, _ := bpfhostExecWith(t, bin, both, args...)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", bin, code, out)
			}
			return out
		}
	}
	// ns[setting][round] = {connect, bind, quiet connect, recvfrom}
	ns := map[string][][4]float64{}
	for r := 0; r < *execBenchRounds; r++ {
		for _, s := range settings {
			var v [4]float64
			out := strings.TrimSpace(run(s))
			if _, err := fmt.Sscanf(out, "connect %g bind %g quiet-connect %g recvfrom %g", &v[0], &v[1], &v[2], &v[3]); err != nil || slices.Min(v[:]) < 0 {
				t.Fatalf("%s: output %q", s, out)
			}
			ns[s] = append(ns[s], v)
		}
	}
	med := func(v []float64) float64 {
		v = append([]float64(nil), v...)
		sort.Float64s(v)
		return v[len(v)/2]
	}
	var rep strings.Builder
	fmt.Fprintf(&rep, "median ns per call over %d calls, %d rounds (per round; median; median ratio to unsupervised)\n", *execBench, *execBenchRounds)
	for _, s := range settings {
		for i, op := range []string{"connect", "bind", "quiet connect", "recvfrom"} {
			var vals, ratios []float64
			for r, v := range ns[s] {
				vals = append(vals, v[i])
				ratios = append(ratios, v[i]/ns["unsupervised"][r][i])
			}
			fmt.Fprintf(&rep, "%-20s %-13s %v; %.0f; x%.2f\n", filepath.Base(s), op, vals, med(vals), med(ratios))
		}
	}
	t.Log(rep.String())
}

func sortedNames(m map[string]ebpf.AttachType) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
