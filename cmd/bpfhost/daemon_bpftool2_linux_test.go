package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/daemon"
	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/remote"
)

// sideBySide runs bpftool against the kernel (pins in a bpffs the test
// mounts) and bpfhost against a daemon, with the same arguments.
type sideBySide struct {
	t       *testing.T
	bpftool string
	fs      string // the bpffs; bpfhost uses the same paths as pins
	d       *testDaemon
	prefix  []string // runs bpftool under a command ("ip netns exec NS")
}

// newSideBySide skips the test, saying why, without bpftool or without the
// privilege to mount a bpffs; the daemon is not started.
func newSideBySide(t *testing.T) *sideBySide {
	t.Helper()
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("no bpftool to compare with")
	}
	d := newTestDaemonProc(t)
	fs := t.TempDir()
	if err := unix.Mount("bpf", fs, "bpf", 0, ""); err != nil {
		t.Skipf("cannot mount a bpffs (privileges?): %v", err)
	}
	// Unmounting drops the pins, and so the kernel's objects, whatever
	// the test left.
	t.Cleanup(func() { unix.Unmount(fs, unix.MNT_DETACH) })
	return &sideBySide{t: t, bpftool: bpftool, fs: fs, d: d}
}

// newNetSideBySide is newSideBySide in a network namespace of the test's
// with a veth pair (devices named after tag), whose daemon is started, and
// counterObj loaded and pinned twice on both sides: it returns the two
// devices and the two pins.
func newNetSideBySide(t *testing.T, tag string) (s *sideBySide, dev, peer, first, second string) {
	t.Helper()
	netnstest.Require(t)
	s = newSideBySide(t)
	ns := netnstest.New(t)
	dev, peer = netnstest.Uniq(tag+"a"), netnstest.Uniq(tag+"b")
	netnstest.Veth(t, ns, dev, ns, peer)
	s.prefix = []string{"ip", "netns", "exec", ns.Name}
	s.d.prefix = s.prefix
	s.d.start()
	first, second = s.fs+"/first", s.fs+"/second"
	for _, p := range []string{first, second} {
		s.both("prog", "load", counterObj, p)
	}
	return s, dev, peer, first, second
}

// newPinByNameSideBySide is newSideBySide whose commands run in a mount
// namespace of their own with the test's bpffs bound on /sys/fs/bpf (where
// libbpf pins LIBBPF_PIN_BY_NAME maps), with the daemon started.
func newPinByNameSideBySide(t *testing.T) *sideBySide {
	t.Helper()
	s := newSideBySide(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare to give bpftool a /sys/fs/bpf of the test's")
	}
	if fi, err := os.Stat("/sys/fs/bpf"); err != nil || !fi.IsDir() {
		t.Skip("no /sys/fs/bpf directory to bind the test's bpffs on")
	}
	s.prefix = []string{"unshare", "-m", "--propagation", "private", "sh", "-c", `mount --bind "$1" /sys/fs/bpf && shift && exec "$@"`, "sh", s.fs}
	s.d.start()
	return s
}

// kernel runs bpftool and returns its stdout, stderr and exit status.
func (s *sideBySide) kernel(args ...string) (string, string, int) {
	s.t.Helper()
	argv := append(append(append([]string(nil), s.prefix...), s.bpftool), args...)
	return runExit(s.t, exec.Command(argv[0], argv[1:]...))
}

// both runs args on both sides and checks that both succeed or both fail;
// it returns the outputs and whether they succeeded.
func (s *sideBySide) both(args ...string) (kout, hout string, ok bool) {
	s.t.Helper()
	kout, kerr, kcode := s.kernel(args...)
	hout, herr, hcode := s.d.cli(nil, args...)
	if (kcode == 0) != (hcode == 0) {
		s.t.Errorf("%s: bpftool exit %d %s%s; bpfhost exit %d %s%s", strings.Join(args, " "), kcode, kout, kerr, hcode, hout, herr)
	}
	return kout, hout, kcode == 0 && hcode == 0
}

// TestDaemonNetOverwriteAgreesWithBpftool: "net attach xdp" on a device
// that has a program fails without overwrite and replaces it with it, and
// "net detach" with nothing attached succeeds (printing nothing, "null"
// with -j), on the kernel with bpftool and in the daemon alike; a device
// that does not exist fails on both.
func TestDaemonNetOverwriteAgreesWithBpftool(t *testing.T) {
	s, a, b, first, second := newNetSideBySide(t, "o")
	progID := func(out string) uint32 {
		var p api.ProgInfo
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatalf("prog show %q: %v", out, err)
		}
		return p.ID
	}
	kFirst, hFirst, _ := s.both("-j", "prog", "show", "pinned", first)
	kSecond, hSecond, _ := s.both("-j", "prog", "show", "pinned", second)
	// attached is the ID of the device's program on each side.
	attached := func() (uint32, uint32) {
		t.Helper()
		kout, hout, _ := s.both("-j", "net", "show")
		var k, h []map[string][]netXDP
		if err := json.Unmarshal([]byte(kout), &k); err != nil || len(k) != 1 {
			t.Fatalf("bpftool net show %q: %v", kout, err)
		}
		if err := json.Unmarshal([]byte(hout), &h); err != nil || len(h) != 1 {
			t.Fatalf("bpfhost net show %q: %v", hout, err)
		}
		var kid, hid uint32
		for _, x := range k[0]["xdp"] {
			if x.Devname == a {
				kid = x.ID
			}
		}
		for _, x := range h[0]["xdp"] {
			if x.Devname == a {
				hid = x.ID
			}
		}
		return kid, hid
	}

	for _, j := range [][]string{nil, {"-j"}} {
		kout, hout, _ := s.both(append(j, "net", "detach", "xdp", "dev", a)...)
		if kout != hout {
			t.Errorf("net detach %v with nothing attached: bpftool printed %q, bpfhost %q", j, kout, hout)
		}
	}
	s.both("net", "detach", "xdp", "dev", "nosuchdev0")
	s.both("net", "attach", "xdp", "pinned", first, "dev", a)
	if k, h := attached(); k != progID(kFirst) || h != progID(hFirst) {
		t.Fatalf("attached: kernel %d bpfhost %d, want the first program (%d, %d)", k, h, progID(kFirst), progID(hFirst))
	}
	_, herr, code := s.d.cli(nil, "net", "attach", "xdp", "pinned", second, "dev", a)
	if !strings.Contains(herr, "already attached") || !strings.Contains(herr, "overwrite") {
		t.Errorf("attach to a busy device: exit %d, %q: want bpftool's \"already attached\" and the way out", code, herr)
	}
	s.both("net", "attach", "xdp", "pinned", second, "dev", a)
	if k, h := attached(); k != progID(kFirst) || h != progID(hFirst) {
		t.Errorf("after a refused attach: kernel %d bpfhost %d, want the first program", k, h)
	}
	s.both("net", "attach", "xdp", "pinned", second, "dev", a, "overwrite")
	if k, h := attached(); k != progID(kSecond) || h != progID(hSecond) {
		t.Errorf("after overwrite: kernel %d bpfhost %d, want the second program (%d, %d)", k, h, progID(kSecond), progID(hSecond))
	}
	// The daemon keeps the replacement across a restart.
	s.d.stop()
	s.d.start()
	// (IDs are given anew at a restart.)
	if _, h := attached(); h != progID(s.d.must("-j", "prog", "show", "pinned", second)) {
		t.Errorf("after a restart bpfhost runs %d on %s, want the second program", h, a)
	}
	s.both("net", "detach", "xdp", "dev", a)
	s.both("net", "detach", "xdp", "dev", a)
	if k, h := attached(); k != 0 || h != 0 {
		t.Errorf("after detach: kernel %d bpfhost %d attached", k, h)
	}

	// net show, whole and by device, as bpftool shows a generic XDP
	// program (program IDs aside).
	s.both("net", "attach", "xdpgeneric", "pinned", first, "dev", a)
	ids := regexp.MustCompile(`id [0-9]+`)
	for _, args := range [][]string{{"net", "show"}, {"net", "show", "dev", a}, {"net", "show", "dev", b}} {
		kout, hout, _ := s.both(args...)
		if k, h := ids.ReplaceAllString(kout, "id N"), ids.ReplaceAllString(hout, "id N"); k != h {
			t.Errorf("%s:\n bpftool %q\n bpfhost %q", strings.Join(args, " "), k, h)
		}
		s.agree(args...)
	}
}

// agree runs args with -j on both sides and compares the JSON without
// what differs between any two loads or only Linux has (normalize).
func (s *sideBySide) agree(args ...string) {
	s.t.Helper()
	args = append([]string{"-j"}, args...)
	kout, hout, ok := s.both(args...)
	if !ok {
		return
	}
	if k, h := normalize(s.t, kout), normalize(s.t, hout); !reflect.DeepEqual(k, h) {
		s.t.Errorf("%s:\n kernel  %s\n bpfhost %s", strings.Join(args, " "), kout, hout)
	}
}

// TestDaemonDataMapNamesAgreeWithBpftool: the maps of .rodata, .data and
// .bss are named and flagged as libbpf creates them ("config.rodata",
// mmapable; a long object name is cut to leave the section's name), in
// "map show" and as "name NAME", as bpftool shows the kernel's.
func TestDaemonDataMapNamesAgreeWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	dir := t.TempDir()
	for _, o := range []struct{ src, as string }{
		{examples + "config.o", "config.o"},
		{examples + "config.o", "averylongobjectname.bpf.o"},
	} {
		b, err := os.ReadFile(o.src)
		if err != nil {
			t.Fatal(err)
		}
		obj := filepath.Join(dir, o.as)
		os.WriteFile(obj, b, 0o644)
		base, _, _ := strings.Cut(o.as, ".")
		progs, pins := s.fs+"/"+base, s.fs+"/"+base+"_maps"
		s.both("prog", "loadall", obj, progs, "pinmaps", pins)
		prefix := base[:min(len(base), 8)]
		for _, sec := range []string{"rodata", "data", "bss"} {
			s.agree("map", "show", "pinned", pins+"/"+prefix+"_"+sec)
		}
		s.agree("prog", "show", "pinned", progs+"/xdp_config")
	}
	s.both("map", "show", "name", "averylon.rodata")
	// The kernel keeps 15 characters of a map's name; bpftool shows a
	// program's whole name, from BTF.
	long, _ := filepath.Abs("../../daemon/testdata/longnames.o")
	s.both("prog", "load", long, s.fs+"/long", "pinmaps", s.fs+"/long_maps")
	s.agree("map", "show", "pinned", s.fs+"/long_maps/a_very_long_map_name_indeed")
	s.agree("prog", "show", "pinned", s.fs+"/long")
	// By name (other loads in the kernel may have these names too: only
	// success is compared).
	s.both("map", "show", "name", "a_very_long_map")
	s.both("prog", "show", "name", "a_very_long_program_name")
}

// children lists the child processes of pid (of all its threads).
func children(pid int) []string {
	var out []string
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

// TestDaemonSIGTERM: SIGTERM stops the daemon with exit status 0, and what
// was pinned and acknowledged is there at the next start; also while a
// call is in flight (a load whose verifier hangs, in a daemon of its own:
// it is canceled after --shutdown-timeout, its client fails, and the load
// left nothing).
func TestDaemonSIGTERM(t *testing.T) {
	stopped := func(d *testDaemon, when string) {
		t.Helper()
		d.stop()
		if code := d.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%s: SIGTERM: exit status %d, want 0\n%s", when, code, d.stderr)
		}
		if !strings.Contains(d.stderr.String(), "msg=stopped") {
			t.Errorf("%s: no graceful stop in the log:\n%s", when, d.stderr)
		}
	}
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", counterObj, "/t/counter", "pinmaps", "/t/maps")
	d.must("map", "update", "pinned", "/t/maps/counts", "key", "7", "0", "0", "0", "value", "9", "0", "0", "0", "0", "0", "0", "0")
	stopped(d, "idle")
	d.start()
	if out := d.must("-j", "map", "lookup", "pinned", "/t/maps/counts", "key", "7", "0", "0", "0"); !strings.Contains(out, `"0x09"`) {
		t.Errorf("after SIGTERM and restart: %s", out)
	}
	d.must("prog", "show", "pinned", "/t/counter")

	// Every verifier child of this daemon hangs: a load stays in flight.
	h := newTestDaemonProc(t)
	h.args = []string{"--shutdown-timeout", "1s"}
	h.env = []string{daemon.FaultEnv + "=hang"}
	h.start()
	load := exec.Command(h.bin, "prog", "load", counterObj, "/t/late")
	load.Env = append(os.Environ(), asMainEnv+"=1", remote.SocketEnv+"="+h.sock)
	var loadErr strings.Builder
	load.Stderr = &loadErr
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	// In flight once the daemon has a verifier child (it has no other).
	deadline := time.Now().Add(settle)
	for len(children(h.cmd.Process.Pid)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no verifier child within %v\n%s", settle, h.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped(h, "a load in flight")
	if err := load.Wait(); err == nil {
		t.Errorf("the load in flight at SIGTERM succeeded: %s", loadErr.String())
	}
	if !strings.Contains(h.stderr.String(), "calls in flight canceled") {
		t.Errorf("the load was not in flight at SIGTERM:\n%s", h.stderr)
	}
	h.env = nil
	h.start()
	if out := h.must("-j", "prog", "show"); strings.TrimSpace(out) != "[]" {
		t.Errorf("the canceled load left programs: %s", out)
	}
}

// TestDaemonMapCreateAgreesWithBpftool: "map create" with bpftool's
// grammar succeeds and fails as bpftool's does against the kernel, the
// created maps show the same, take updates, and (in the daemon) survive a
// SIGKILL with their contents until unpinned.
func TestDaemonMapCreateAgreesWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	s.both("map", "create", s.fs+"/inner", "type", "hash", "key", "4", "value", "8", "entries", "16", "name", "inner")
	for i, args := range [][]string{
		{"type", "hash", "key", "4", "value", "8", "entries", "16", "name", "h"},
		{"name", "h2", "entries", "16", "value", "8", "key", "4", "type", "hash", "flags", "1"},
		{"type", "percpu_array", "key", "4", "value", "8", "entries", "4", "name", "pa"},
		{"type", "lru_hash", "key", "8", "value", "16", "entries", "64", "name", "lru"},
		{"type", "lpm_trie", "key", "8", "value", "4", "entries", "16", "name", "lpm", "flags", "1"},
		{"type", "queue", "key", "0", "value", "4", "entries", "4", "name", "q"},
		{"type", "ringbuf", "key", "0", "value", "0", "entries", "4096", "name", "rb"},
		{"type", "bloom_filter", "key", "0", "value", "4", "entries", "4", "name", "bf"},
		{"type", "array_of_maps", "key", "4", "value", "4", "entries", "4", "name", "aom", "inner_map", "pinned", s.fs + "/inner"},
		{"type", "hash_of_maps", "key", "8", "value", "4", "entries", "4", "name", "hom", "inner_map", "pinned", s.fs + "/inner"},
		{"type", "prog_array", "key", "4", "value", "4", "entries", "8", "name", "jmp"},
		{"type", "hash", "key", "4", "value", "8", "entries", "4", "name", "a_very_long_map_name"},
		{"type", "hash", "key", "4", "value", "8", "entries", "4", "name", "x", "inner_map", "pinned", s.fs + "/inner"},
		{"type", "array", "key", "4", "value", "8", "entries", "4", "name", "ro", "flags", "0x8"},
		{"type", "array", "key", "4", "value", "8", "entries", "4", "name", "wo", "flags", "0x10"},
		// Refused by both.
		{"type", "array", "key", "4", "value", "8", "entries", "4", "name", "rw", "flags", "0x18"},
		{"type", "hash", "key", "4", "value", "8", "entries", "4", "name", "bad-name"},
		{"type", "array", "key", "4", "value", "8", "entries", "4", "name", "x", "flags", "1"},
		{"type", "hash", "key", "4", "value", "8", "entries", "4", "name", "x", "flags", "0x400"},
		{"type", "array", "key", "8", "value", "8", "entries", "4", "name", "x"},
		{"type", "hash", "key", "0", "value", "8", "entries", "4", "name", "x"},
		{"type", "hash", "key", "4", "value", "8", "entries", "0", "name", "x"},
		{"type", "queue", "key", "4", "value", "4", "entries", "4", "name", "x"},
		{"type", "array_of_maps", "key", "4", "value", "4", "entries", "4", "name", "x"},
		{"type", "hashx", "key", "4", "value", "8", "entries", "4", "name", "x"},
		{"type", "hash", "key", "4", "value", "8", "entries", "4"},
		{"key", "4", "value", "8", "entries", "4", "name", "x"},
		{"type", "hash", "key", "x", "value", "8", "entries", "4", "name", "x"},
		{"type", "hash", "key", "4", "value", "8", "entries", "4", "name", "x", "flags"},
		{"type", "hash", "key", "4", "value", "8", "entries", "4", "name", "x", "foo", "1"},
		{"type", "hash", "key", "4", "value", "8", "entries", "4", "name", "x", "inner_map", "pinned", s.fs + "/nosuch"},
		{"type", "hash", "key", "4", "value", "8", "entries", "4", "name", "x", "dev", "lo"},
	} {
		file := fmt.Sprintf("%s/m%d", s.fs, i)
		if _, _, ok := s.both(append([]string{"map", "create", file}, args...)...); ok {
			s.agree("map", "show", "pinned", file)
		}
	}
	// A pin that exists is refused by both.
	s.both("map", "create", s.fs+"/m0", "type", "hash", "key", "4", "value", "8", "entries", "16", "name", "again")
	// bpfhost has no socket maps: a clear error.
	if _, errOut, code := s.d.cli(nil, "map", "create", "/sock", "type", "sockmap", "key", "4", "value", "4", "entries", "4", "name", "s"); code == 0 || !strings.Contains(errOut, "sockmap") {
		t.Errorf("map create of a sockmap: exit %d, %q", code, errOut)
	}

	// BPF_F_RDONLY and BPF_F_WRONLY bind the creator's descriptor only:
	// through the pin, both tools read and write the map.
	for _, args := range [][]string{
		{"map", "update", "pinned", s.fs + "/m13", "key", "1", "0", "0", "0", "value", "7", "0", "0", "0", "0", "0", "0", "0"},
		{"map", "lookup", "pinned", s.fs + "/m13", "key", "1", "0", "0", "0"},
		{"map", "update", "pinned", s.fs + "/m14", "key", "1", "0", "0", "0", "value", "7", "0", "0", "0", "0", "0", "0", "0"},
		{"map", "lookup", "pinned", s.fs + "/m14", "key", "1", "0", "0", "0"},
	} {
		s.agree(args...)
	}
	h := s.fs + "/m0"
	for _, args := range [][]string{
		{"map", "update", "pinned", h, "key", "1", "0", "0", "0", "value", "2", "0", "0", "0", "0", "0", "0", "0"},
		{"map", "lookup", "pinned", h, "key", "1", "0", "0", "0"},
		{"map", "update", "pinned", s.fs + "/m8", "key", "1", "0", "0", "0", "value", "pinned", s.fs + "/inner"},
		{"map", "dump", "pinned", h},
	} {
		s.agree(args...)
	}
	// A created program array holds a program (as bpftool, by PROG).
	prog, _ := filepath.Abs(counterObj)
	s.both("prog", "load", prog, s.fs+"/tail")
	s.both("map", "update", "pinned", s.fs+"/m10", "key", "1", "0", "0", "0", "value", "pinned", s.fs+"/tail")
	s.d.must("unpin", s.fs+"/tail")
	before := s.d.must("-j", "map", "show", "pinned", h)
	aomBefore := s.d.must("-j", "map", "lookup", "pinned", s.fs+"/m8", "key", "1", "0", "0", "0")
	s.d.kill()
	s.d.start()
	// What the created map of maps and program array hold is back: the
	// inner map's and the program's IDs (given anew at a restart).
	var inner api.MapInfo
	json.Unmarshal([]byte(s.d.must("-j", "map", "show", "pinned", s.fs+"/inner")), &inner)
	if got := s.d.must("-j", "map", "lookup", "pinned", s.fs+"/m8", "key", "1", "0", "0", "0"); !strings.Contains(got, fmt.Sprintf(`"value":["0x%02x",`, inner.ID)) {
		t.Errorf("array of maps after SIGKILL: %s (before %s), want the inner map's id %d", got, aomBefore, inner.ID)
	}
	var progs []api.ProgInfo
	json.Unmarshal([]byte(s.d.must("-j", "prog", "show")), &progs)
	if len(progs) != 1 || !strings.Contains(s.d.must("-j", "map", "lookup", "pinned", s.fs+"/m10", "key", "1", "0", "0", "0"), fmt.Sprintf(`"value":["0x%02x",`, progs[0].ID)) {
		t.Errorf("program array after SIGKILL: programs %+v, entry %s", progs, s.d.must("-j", "map", "lookup", "pinned", s.fs+"/m10", "key", "1", "0", "0", "0"))
	}
	if got := s.d.must("-j", "map", "show", "pinned", h); !reflect.DeepEqual(normalize(t, got), normalize(t, before)) {
		t.Errorf("after SIGKILL: %s, before %s", got, before)
	}
	if out := s.d.must("-j", "map", "lookup", "pinned", h, "key", "1", "0", "0", "0"); !strings.Contains(out, `"0x02"`) {
		t.Errorf("the update after SIGKILL: %s", out)
	}
	units, _ := os.ReadDir(filepath.Join(s.d.state, "units"))
	s.d.must("unpin", h)
	if _, _, code := s.d.cli(nil, "map", "show", "pinned", h); code == 0 {
		t.Error("the map is there after its pin was removed")
	}
	if after, _ := os.ReadDir(filepath.Join(s.d.state, "units")); len(after) != len(units)-1 {
		t.Errorf("units in the state directory: %d before the unpin, %d after, want one less", len(units), len(after))
	}
}

// TestDaemonMapReuseAgreesWithBpftool: "prog load OBJ PATH map {idx IDX |
// name NAME} MAP" makes the object's map the existing one, on the kernel
// with bpftool and in the daemon alike: the existing map's type and sizes
// replace the object's (a program whose accesses no longer fit is refused,
// others load: libbpf checks nothing itself), bpftool's errors for
// unknown, unused and repeated replacements, the program's runs count in
// the existing map, and the daemon keeps the reuse across a SIGKILL.
func TestDaemonMapReuseAgreesWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	obj, _ := filepath.Abs(counterObj)
	create := func(name string, args ...string) string {
		file := s.fs + "/" + name
		s.both(append([]string{"map", "create", file}, args...)...)
		return file
	}
	same := create("same", "type", "hash", "key", "4", "value", "8", "entries", "256", "name", "same")
	wide := create("wide", "type", "hash", "key", "4", "value", "16", "entries", "256", "name", "wide")
	narrow := create("narrow", "type", "hash", "key", "4", "value", "4", "entries", "256", "name", "narrow")
	big := create("big", "type", "hash", "key", "4", "value", "8", "entries", "1024", "name", "big", "flags", "1")
	arr := create("arr", "type", "array", "key", "4", "value", "8", "entries", "256", "name", "arr")
	small := create("small", "type", "hash", "key", "4", "value", "8", "entries", "16", "name", "small")
	for i, c := range []struct {
		args []string
		uses string // the pin of the map the program then uses
	}{
		{args: []string{"map", "name", "counts", "pinned", same}, uses: same},
		{args: []string{"map", "idx", "0", "pinned", same}, uses: same},
		{args: []string{"map", "name", "counts", "pinned", wide}, uses: wide},
		{args: []string{"map", "name", "counts", "pinned", narrow}},
		{args: []string{"map", "name", "counts", "pinned", big}, uses: big},
		{args: []string{"map", "name", "counts", "pinned", arr}, uses: arr},
		{args: []string{"map", "idx", "1", "pinned", small}, uses: small},
		{args: []string{"map", "name", "nosuch", "pinned", same}},
		{args: []string{"map", "idx", "7", "pinned", same}},
		{args: []string{"map", "idx", "0", "pinned", same, "map", "name", "counts", "pinned", wide}},
		{args: []string{"map", "name", "counts", "pinned", s.fs + "/nosuch"}},
		{args: []string{"map", "foo", "0", "pinned", same}},
		{args: []string{"map", "idx", "x", "pinned", same}},
	} {
		prog := fmt.Sprintf("%s/p%d", s.fs, i)
		if _, _, ok := s.both(append([]string{"prog", "load", obj, prog}, c.args...)...); !ok || c.uses == "" {
			if ok {
				t.Errorf("%v: loaded, want a failure", c.args)
			}
			continue
		}
		// The program's maps include the existing one, on both sides.
		kout, hout, _ := s.both("-j", "prog", "show", "pinned", prog)
		kmap, hmap, _ := s.both("-j", "map", "show", "pinned", c.uses)
		for _, side := range []struct{ prog, m string }{{kout, kmap}, {hout, hmap}} {
			var p api.ProgInfo
			var m api.MapInfo
			json.Unmarshal([]byte(side.prog), &p)
			json.Unmarshal([]byte(side.m), &m)
			if !slices.Contains(p.MapIDs, m.ID) {
				t.Errorf("%v: program's maps %v, want the existing map %d among them", c.args, p.MapIDs, m.ID)
			}
		}
	}

	// Runs count in the existing map, on both sides.
	pkt := filepath.Join(t.TempDir(), "pkt")
	os.WriteFile(pkt, append([]byte{3}, make([]byte, 63)...), 0o644)
	s.both("prog", "run", "pinned", s.fs+"/p0", "data_in", pkt)
	s.agree("map", "lookup", "pinned", same, "key", "3", "0", "0", "0")

	// A program array in place of a hash map: the program's lookups in
	// it are refused (sharing program arrays between objects:
	// TestDaemonShareAcrossObjectsAgreesWithBpftool).
	jmp := create("jmp", "type", "prog_array", "key", "4", "value", "4", "entries", "4", "name", "jmp")
	if _, _, ok := s.both("prog", "load", obj, s.fs+"/pj", "map", "name", "counts", "pinned", jmp); ok {
		t.Error("a program array in place of a hash map: loaded")
	}

	// The daemon keeps the reuse: after SIGKILL the program still counts
	// in the existing map, which lives while the program does, also
	// without its own pin.
	s.d.kill()
	s.d.start()
	s.d.must("prog", "run", "pinned", s.fs+"/p0", "data_in", pkt)
	if out := s.d.must("-j", "map", "lookup", "pinned", same, "key", "3", "0", "0", "0"); !strings.Contains(out, `"value":["0x02"`) {
		t.Errorf("after SIGKILL, the second run's count: %s", out)
	}
	var m api.MapInfo
	json.Unmarshal([]byte(s.d.must("-j", "map", "show", "pinned", same)), &m)
	s.d.must("unpin", same)
	s.d.must("unpin", s.fs+"/p1")
	s.d.must("map", "show", "id", fmt.Sprint(m.ID))
	s.d.kill()
	s.d.start()
	// (IDs are given anew at a restart: find it through the program.)
	var p api.ProgInfo
	json.Unmarshal([]byte(s.d.must("-j", "prog", "show", "pinned", s.fs+"/p0")), &p)
	found := false
	for _, id := range p.MapIDs {
		var mi api.MapInfo
		json.Unmarshal([]byte(s.d.must("-j", "map", "show", "id", fmt.Sprint(id))), &mi)
		found = found || mi.Name == "same"
	}
	if !found {
		t.Errorf("after unpinning it and SIGKILL, the reused map is not the program's: %v", p.MapIDs)
	}
	s.d.must("unpin", s.fs+"/p0")
	if out := s.d.must("-j", "map", "show"); strings.Contains(out, `"name":"same"`) {
		t.Errorf("the reused map lives on with neither pin nor program: %s", out)
	}
}

// TestDaemonPinByNameAgreesWithBpftool: a map the object marks
// LIBBPF_PIN_BY_NAME is pinned at /sys/fs/bpf/NAME by the first load and
// reused by the next (libbpf's compatibility check first, with its error
// when the pinned map differs), and pinmaps cannot pin it elsewhere, with
// bpftool against the kernel (its /sys/fs/bpf a bind mount of the test's
// bpffs, in a mount namespace of each command) and in the daemon (whose
// /sys/fs/bpf is a directory of its pins) alike; the daemon keeps the
// sharing across a SIGKILL.
func TestDaemonPinByNameAgreesWithBpftool(t *testing.T) {
	s := newPinByNameSideBySide(t)
	obj, _ := filepath.Abs("../../testdata/pin/pinned.o")
	hits := "/sys/fs/bpf/hits"
	s.both("prog", "load", obj, s.fs+"/p1")
	s.agree("map", "show", "pinned", hits)
	s.both("prog", "load", obj, s.fs+"/p2")
	// shared reports whether the map pinned by name is both programs'.
	shared := func(run func(...string) string) bool {
		var m api.MapInfo
		json.Unmarshal([]byte(run("-j", "map", "show", "pinned", hits)), &m)
		for _, p := range []string{"/p1", "/p2"} {
			var pi api.ProgInfo
			json.Unmarshal([]byte(run("-j", "prog", "show", "pinned", s.fs+p)), &pi)
			if m.ID == 0 || !slices.Contains(pi.MapIDs, m.ID) {
				return false
			}
		}
		return true
	}
	kernel := func(args ...string) string { out, _, _ := s.kernel(args...); return out }
	if !shared(kernel) || !shared(s.d.must) {
		t.Errorf("the pinned map is shared by both programs: kernel %v, bpfhost %v", shared(kernel), shared(s.d.must))
	}
	s.both("prog", "load", obj, s.fs+"/p3", "pinmaps", s.fs+"/p3maps")
	s.d.kill()
	s.d.start()
	if !shared(s.d.must) {
		t.Error("after SIGKILL, the programs no longer share the map pinned by name")
	}
	// A map pinned there that differs: libbpf's error.
	// (bpftool has no unpin: a pin is removed as a file.)
	s.d.must("unpin", hits)
	if err := os.Remove(s.fs + "/hits"); err != nil {
		t.Fatal(err)
	}
	s.both("map", "create", hits, "type", "hash", "key", "4", "value", "8", "entries", "17", "name", "hits")
	s.both("prog", "load", obj, s.fs+"/p4")
	if _, errOut, _ := s.d.cli(nil, "prog", "load", obj, s.fs+"/p4"); !strings.Contains(errOut, "couldn't reuse pinned map at '/sys/fs/bpf/hits': parameter mismatch") {
		t.Errorf("load over a different map pinned by name: %q, want libbpf's error", errOut)
	}
}

// TestDaemonFormattedAgreesWithBpftool: entries of maps with BTF print as
// bpftool prints them, formatted through the types (for people: its pretty
// JSON layout alone; with -j: "formatted" beside the bytes), for strings,
// chars, enums (matched and not), bools, signed numbers, bit fields,
// pointers, unions, arrays of structs, per-CPU values and global data, the
// same bytes on both sides; and -p lays JSON out as bpftool's -p does.
func TestDaemonFormattedAgreesWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	obj, _ := filepath.Abs("../../daemon/testdata/btfvals.o")
	dir := s.fs + "/btfm"
	s.both("prog", "load", obj, s.fs+"/btf", "pinmaps", dir)
	rich := dir + "/rich"
	bytesArgs := func(b []byte) []string {
		out := []string{"hex"}
		for _, c := range b {
			out = append(out, fmt.Sprintf("%02x", c))
		}
		return out
	}
	keys := [][]byte{{1, 0, 0, 0, 'a', 'b', 0, 0}, {2, 0, 0, 0, 1, 'x', 'y', 'z'}}
	vals := [][]byte{
		{'a', 'b', 'c', 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0xfe, 0, 0, 0xfb, 0xff, 0xff, 0xff, 1, 2, 3, 0xae,
			0, 0, 0, 0, 0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11, 0xff, 0xff, 2, 0, 3, 0, 0xfc, 0xff, 0, 0, 0, 0,
			0, 0, 0, 0, 0, 1, 0, 0},
		{1, 2, 'a', 'b', 'c', 'd', 'e', 'f', 5, 0, 0, 0, 0, 0x41, 0, 0, 7, 0, 0, 0x80, 0xff, 0, 0x7f, 0x07,
			0x34, 0x12, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0x80, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	}
	for i := range keys {
		s.both(append(append(append([]string{"map", "update", "pinned", rich, "key"}, bytesArgs(keys[i])...), "value"), bytesArgs(vals[i])...)...)
	}
	s.both("map", "update", "pinned", dir+"/percpu", "key", "1", "0", "0", "0", "value", "hex", "fd", "ff", "ff", "ff", "ff", "ff", "ff", "ff")
	same := func(args ...string) {
		t.Helper()
		kout, hout, ok := s.both(args...)
		if ok && kout != hout {
			t.Errorf("%s:\n bpftool %s\n bpfhost %s", strings.Join(args, " "), kout, hout)
		}
	}
	for _, k := range keys {
		lookup := append([]string{"map", "lookup", "pinned", rich, "key"}, bytesArgs(k)...)
		same(lookup...)
		same(append([]string{"-j"}, lookup...)...)
		same(append([]string{"-p"}, lookup...)...)
	}
	for _, m := range []string{"btfvals_rodata", "btfvals_data"} {
		same("map", "dump", "pinned", dir+"/"+m)
		same("-j", "map", "dump", "pinned", dir+"/"+m)
	}
	// Per-CPU values: as many as the kernel has CPUs and bpfhost slots;
	// the first's are compared.
	first := func(out string) any {
		var e struct {
			Formatted struct {
				Key    any   `json:"key"`
				Values []any `json:"values"`
			} `json:"formatted"`
		}
		if err := json.Unmarshal([]byte(out), &e); err != nil || len(e.Formatted.Values) == 0 {
			t.Fatalf("per-CPU lookup %q: %v", out, err)
		}
		return []any{e.Formatted.Key, e.Formatted.Values[0]}
	}
	kout, hout, _ := s.both("-j", "map", "lookup", "pinned", dir+"/percpu", "key", "1", "0", "0", "0")
	if k, h := first(kout), first(hout); !reflect.DeepEqual(k, h) {
		t.Errorf("per-CPU formatted: bpftool %v, bpfhost %v", k, h)
	}
	// A map without BTF (map create) prints its bytes, as bpftool's.
	s.both("map", "create", s.fs+"/plain", "type", "hash", "key", "4", "value", "4", "entries", "4", "name", "plain")
	s.both("map", "update", "pinned", s.fs+"/plain", "key", "1", "0", "0", "0", "value", "2", "0", "0", "0")
	same("map", "dump", "pinned", s.fs+"/plain")
	// A program array's entries are formatted too (IDs: compared by
	// shape); a map of maps' are not, nor an empty slot of a devmap.
	refs, _ := filepath.Abs("../../daemon/testdata/refs.o")
	s.both("prog", "loadall", refs, s.fs+"/r", "pinmaps", s.fs+"/rm")
	s.both("map", "update", "pinned", s.fs+"/rm/jmp", "key", "1", "0", "0", "0", "value", "pinned", s.fs+"/r/to_tx")
	s.both("map", "update", "pinned", s.fs+"/rm/outer", "key", "1", "0", "0", "0", "value", "pinned", s.fs+"/rm/inner")
	// A devmap's dump lists its empty slots, as bpftool's walk of the
	// array does.
	s.both("map", "update", "pinned", s.fs+"/rm/devs", "key", "2", "0", "0", "0", "value", "1", "0", "0", "0", "0", "0", "0", "0")
	same("map", "dump", "pinned", s.fs+"/rm/devs")
	same("-j", "map", "dump", "pinned", s.fs+"/rm/devs")
	digits := regexp.MustCompile(`\b(0x)?[0-9a-f]+\b`)
	for _, args := range [][]string{
		{"map", "dump", "pinned", s.fs + "/rm/jmp"},
		{"map", "lookup", "pinned", s.fs + "/rm/jmp", "key", "1", "0", "0", "0"},
		{"-j", "map", "lookup", "pinned", s.fs + "/rm/jmp", "key", "1", "0", "0", "0"},
		{"map", "dump", "pinned", s.fs + "/rm/outer"},
	} {
		kout, hout, _ := s.both(args...)
		if k, h := digits.ReplaceAllString(kout, "N"), digits.ReplaceAllString(hout, "N"); k != h {
			t.Errorf("%s:\n bpftool %q\n bpfhost %q", strings.Join(args, " "), kout, hout)
		}
	}
	// A missing key: bpftool's "Not found" (null with -j), and a failure.
	for _, args := range [][]string{
		{"map", "lookup", "pinned", s.fs + "/plain", "key", "9", "0", "0", "0"},
		{"-j", "map", "lookup", "pinned", s.fs + "/plain", "key", "9", "0", "0", "0"},
		append([]string{"map", "lookup", "pinned", rich, "key"}, bytesArgs(make([]byte, 8))...),
	} {
		kout, _, kcode := s.kernel(args...)
		hout, herr, hcode := s.d.cli(nil, args...)
		if kcode == 0 || hcode == 0 || kout != hout || herr != "" {
			t.Errorf("%s: bpftool exit %d %q; bpfhost exit %d %q %q", strings.Join(args, " "), kcode, kout, hcode, hout, herr)
		}
	}
}

// TestDaemonBpftoolOptions: bpftool's options that scripts pass before the
// object (-d, -l, -m, -n, -L) are accepted, as bpftool accepts them.
func TestDaemonBpftoolOptions(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", counterObj, "/o/counter", "pinmaps", "/o/maps")
	for _, opt := range []string{"-d", "-l", "-m", "-n", "-L", "--debug", "--legacy", "--mapcompat", "--nomount", "--use-loader"} {
		if out := d.must(opt, "-j", "map", "show", "pinned", "/o/maps/counts"); !strings.Contains(out, `"name":"counts"`) {
			t.Errorf("%s map show: %s", opt, out)
		}
	}
}
