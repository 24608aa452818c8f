package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon"
	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// asMainEnv makes the test binary run as bpfhost itself, so that the
// end-to-end tests start the real daemon (and its verifier children)
// without building the binary.
const asMainEnv = "BPFHOST_TEST_AS_MAIN"

func init() {
	testEntryPoints = append(testEntryPoints, func() {
		if os.Getenv(asMainEnv) == "1" {
			os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
		}
	})
}

const counterObj = "../../daemon/testdata/counter.o"

// testDaemon is a daemon process started by a test.
type testDaemon struct {
	t       testing.TB
	bin     string
	sock    string
	state   string
	env     []string
	args    []string
	metrics string // the --metrics address, if any
	// prefix, if set, runs the daemon under a command ("ip netns exec NS").
	prefix []string
	cmd    *exec.Cmd
	stderr *bytes.Buffer
}

// startDaemon starts bin as a daemon and waits until it answers.
func (d *testDaemon) start() {
	d.t.Helper()
	args := append([]string{"daemon", "--state", d.state, "--socket", d.sock}, d.args...)
	argv := append(append(append([]string(nil), d.prefix...), d.bin), args...)
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Env = append(append(os.Environ(), asMainEnv+"=1"), d.env...)
	d.stderr = &bytes.Buffer{}
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(d.stop)
	deadline := time.Now().Add(settle)
	for {
		c, err := remote.Dial(d.sock)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("daemon does not answer: %v\n%s", err, d.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill kills the daemon with SIGKILL.
func (d *testDaemon) kill() {
	if d.cmd != nil && d.cmd.ProcessState == nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
	}
}

func (d *testDaemon) stop() {
	if d.cmd != nil && d.cmd.ProcessState == nil {
		d.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { d.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(settle): // a graceful stop, however slow the machine
			d.kill()
		}
	}
}

// cli runs a bpfhost command against the daemon and returns its stdout,
// stderr and exit status.
func (d *testDaemon) cli(cred *syscall.Credential, args ...string) (string, string, int) {
	d.t.Helper()
	cmd := exec.Command(d.bin, args...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1", remote.SocketEnv+"="+d.sock)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return runExit(d.t, cmd)
}

// runExit runs cmd and returns its stdout, stderr and exit status; a
// command that cannot be started fails the test.
func runExit(t testing.TB, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// must runs a command that must succeed.
func (d *testDaemon) must(args ...string) string {
	d.t.Helper()
	out, errOut, code := d.cli(nil, args...)
	if code != 0 {
		d.t.Fatalf("bpfhost %s: exit %d: %s\ndaemon log:\n%s", strings.Join(args, " "), code, errOut, d.stderr)
	}
	return out
}

func newTestDaemonProc(t testing.TB) *testDaemon {
	if runtime.GOOS != "linux" {
		t.Skip("the end-to-end tests run the daemon on Linux")
	}
	if testing.Short() {
		t.Skip("starts daemon processes")
	}
	dir := t.TempDir()
	return &testDaemon{t: t, bin: os.Args[0], sock: filepath.Join(dir, "bpfhost.sock"), state: filepath.Join(dir, "state")}
}

// sortedDump is a map dump's JSON entries, sorted, for comparing.
func sortedDump(t *testing.T, out string) []string {
	t.Helper()
	var entries []json.RawMessage
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("dump %q: %v", out, err)
	}
	var s []string
	for _, e := range entries {
		s = append(s, string(e))
	}
	sort.Strings(s)
	return s
}

// TestDaemonSurvivesKill loads, pins, updates and runs through the CLI,
// kills the daemon with SIGKILL, starts it again, and dumps: equal.
func TestDaemonSurvivesKill(t *testing.T) {
	d := newTestDaemonProc(t)
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		d.metrics = l.Addr().String()
		l.Close()
		d.args = []string{"--metrics", d.metrics}
	}
	d.start()
	d.must("prog", "load", counterObj, "/bpf/counter", "pinmaps", "/bpf/maps")
	for i := 0; i < 5; i++ {
		d.must("map", "update", "pinned", "/bpf/maps/counts", "key", fmt.Sprint(100+i), "0", "0", "0", "value", "hex", "0a", "0", "0", "0", "0", "0", "0", fmt.Sprintf("%02x", i))
	}
	d.must("map", "delete", "name", "counts", "key", "102", "0", "0", "0")
	pkt := filepath.Join(t.TempDir(), "pkt")
	os.WriteFile(pkt, append([]byte{7}, make([]byte, 63)...), 0o644)
	if out := d.must("-j", "prog", "run", "pinned", "/bpf/counter", "data_in", pkt, "repeat", "3"); !strings.Contains(out, `"retval":2`) {
		t.Fatalf("run: %s", out)
	}
	before := sortedDump(t, d.must("-j", "map", "dump", "pinned", "/bpf/maps/counts"))
	totalBefore := d.must("-j", "map", "lookup", "name", "total", "key", "0", "0", "0", "0")
	showBefore := d.must("-j", "prog", "show", "pinned", "/bpf/counter")
	if len(before) != 5 || !strings.Contains(totalBefore, `"value":["0x03"`) {
		t.Fatalf("before the kill: %v %s", before, totalBefore)
	}

	d.kill()
	d.start()
	after := sortedDump(t, d.must("-j", "map", "dump", "pinned", "/bpf/maps/counts"))
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Fatalf("after SIGKILL and restart:\n got %v\nwant %v", after, before)
	}
	if got := d.must("-j", "map", "lookup", "name", "total", "key", "0", "0", "0", "0"); got != totalBefore {
		t.Fatalf("total after restart %s, want %s", got, totalBefore)
	}
	var p1, p2 map[string]any
	json.Unmarshal([]byte(showBefore), &p1)
	json.Unmarshal([]byte(d.must("-j", "prog", "show", "pinned", "/bpf/counter")), &p2)
	if p1["tag"] != p2["tag"] || p1["name"] != p2["name"] || p2["type"] != "xdp" {
		t.Fatalf("program after restart %v, before %v", p2, p1)
	}
	// bpftool's "tag TAG" names the program too.
	var p3 map[string]any
	json.Unmarshal([]byte(d.must("-j", "prog", "show", "tag", fmt.Sprint(p1["tag"]))), &p3)
	if p3["id"] != p2["id"] {
		t.Fatalf("prog show tag %v: %v, want id %v", p1["tag"], p3, p2["id"])
	}
	if d.metrics != "" {
		resp, err := http.Get("http://" + d.metrics + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`bpfhost_map_entries{id="1",name="counts"} 5`, "\ngo_goroutines ", "\nprocess_resident_memory_bytes "} {
			if !strings.Contains(string(body), want) {
				t.Fatalf("metrics after the restart lack %q:\n%s", want, body)
			}
		}
	}
	// The program still runs against the restored maps.
	d.must("prog", "run", "name", "count_packets", "data_in", pkt)
	if got := d.must("-j", "map", "lookup", "name", "counts", "key", "7", "0", "0", "0"); !strings.Contains(got, `"value":["0x04"`) {
		t.Fatalf("counts[7] after 4 runs: %s", got)
	}
	// Unpinning everything unloads the object, also for the next start.
	for _, pin := range []string{"/bpf/counter", "/bpf/maps/counts", "/bpf/maps/total"} {
		d.must("unpin", pin)
	}
	if _, errOut, code := d.cli(nil, "unpin", "/bpf/counter"); code == 0 || !strings.Contains(errOut, "no such pin") {
		t.Fatalf("unpin of a removed pin: exit %d %s", code, errOut)
	}
	d.kill()
	d.start()
	if out := d.must("-j", "map", "show"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("maps after unpinning all and a restart: %s", out)
	}
}

// TestDaemonVerifierFaults injects a crash and a hang into the verifier
// child: each load is rejected with a clear error and the daemon serves
// on.
func TestDaemonVerifierFaults(t *testing.T) {
	for _, tc := range []struct{ fault, want string }{
		{"panic", "verifier process failed"},
		{"hang", "no verdict within"},
		{"open", "open /proc/self/status: operation not permitted"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			d := newTestDaemonProc(t)
			d.env = []string{daemon.FaultEnv + "=" + tc.fault}
			d.args = []string{"--verify-timeout", "2s"}
			d.start()
			_, errOut, code := d.cli(nil, "prog", "load", counterObj, "/bpf/p")
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("load with a %s in the verifier: exit %d, %q", tc.fault, code, errOut)
			}
			if out := d.must("-j", "prog", "show"); strings.TrimSpace(out) != "[]" {
				t.Fatalf("programs after the refused load: %s", out)
			}
		})
	}
}

// TestDaemonRefusesOtherUsers connects as another uid: refused.
func TestDaemonRefusesOtherUsers(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another uid")
	}
	d := newTestDaemonProc(t)
	// The client runs as nobody: it needs to reach the binary and socket.
	dir, err := os.MkdirTemp("", "bpfhost-e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "bpfhost")
	copyFile(t, os.Args[0], bin)
	d.bin, d.sock = bin, filepath.Join(dir, "s.sock")
	d.start()
	os.Chmod(d.sock, 0o666) // let the connection through to SO_PEERCRED
	_, errOut, code := d.cli(&syscall.Credential{Uid: 65534, Gid: 65534}, "prog", "show")
	if code == 0 || !strings.Contains(errOut, "uid 65534 is not root") {
		t.Fatalf("nobody's prog show: exit %d, %q", code, errOut)
	}
	d.must("prog", "show")

	// With --group, its members are admitted: nobody's group is nogroup.
	if _, err := user.LookupGroupId("65534"); err != nil {
		t.Skip("no group 65534 to admit")
	}
	g, _ := user.LookupGroupId("65534")
	d.stop()
	d.args = []string{"--group", g.Name}
	d.start()
	obj, _ := os.ReadFile(counterObj)
	objPath := filepath.Join(dir, "counter.o")
	os.WriteFile(objPath, obj, 0o644)
	if _, errOut, code := d.cli(&syscall.Credential{Uid: 65534, Gid: 65534}, "prog", "load", objPath, "/x"); code != 0 {
		t.Fatalf("a member of --group %s loads: exit %d, %q", g.Name, code, errOut)
	}
	if out, errOut, code := d.cli(&syscall.Credential{Uid: 65534, Gid: 65534}, "-j", "prog", "show"); code != 0 || !strings.Contains(out, `"uid":65534`) {
		t.Fatalf("a member of --group %s: exit %d, %q %q", g.Name, code, out, errOut)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDaemonCLIGrammar covers the commands and arguments the other tests
// do not: loadall, show by name, pins, xlated, usage errors.
func TestDaemonCLIGrammar(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "loadall", counterObj, "/all", "type", "xdp", "pinmaps", "/allmaps")
	d.must("prog", "load", counterObj, "/one")
	var progs []map[string]any
	json.Unmarshal([]byte(d.must("-j", "prog", "show", "name", "count_packets")), &progs)
	if len(progs) != 2 {
		t.Fatalf("prog show name: %v", progs)
	}
	d.must("prog", "pin", "pinned", "/all/count_packets", "/again")
	d.must("map", "pin", "pinned", "/allmaps/counts", "/counts2")
	if out := d.must("-f", "-j", "map", "show", "pinned", "/counts2"); !strings.Contains(out, `"pinned":["/allmaps/counts","/counts2"]`) {
		t.Fatalf("map show -f: %s", out)
	}
	if out := d.must("-j", "prog", "dump", "xlated", "pinned", "/again"); !strings.Contains(out, `"proto":"int count_packets(struct xdp_md * ctx)"`) || !strings.Contains(out, `"disasm":"(95) exit"`) {
		t.Fatalf("prog dump xlated: %s", out)
	}
	dir := t.TempDir()
	pkt, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	os.WriteFile(pkt, append([]byte{1, 2, 3}, make([]byte, 61)...), 0o644)
	if got := d.must("prog", "run", "pinned", "/one", "data_in", pkt, "data_out", out); !strings.HasPrefix(got, "Return value: 2, duration: ") {
		t.Fatalf("prog run: %q", got)
	}
	if in, _ := os.ReadFile(pkt); !bytes.Equal(readFile(t, out), in) {
		t.Fatalf("data_out %x, want the packet %x", readFile(t, out), in)
	}
	if out := d.must("prog", "show", "pinned", "/one"); !strings.Contains(out, "name count_packets  tag ") {
		t.Fatalf("prog show: %s", out)
	}
	if out := d.must("prog", "dump", "jited", "pinned", "/one"); !strings.Contains(out, "<entry>:") || !strings.Contains(out, "   0: ") || !strings.Contains(out, "ret") {
		t.Errorf("prog dump jited:\n%s", out)
	}
	var blocks []api.JitedBlock
	if err := json.Unmarshal([]byte(d.must("-j", "prog", "dump", "jited", "pinned", "/one")), &blocks); err != nil || len(blocks) < 2 || blocks[0].PC >= 0 || len(blocks[1].Code) == 0 {
		t.Errorf("prog dump jited -j: %+v, %v", blocks, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prog", "show", "id", "x"}, "want a positive number"},
		{[]string{"prog", "show", "tag", "abc"}, "want 8 bytes in hexadecimal"},
		{[]string{"prog", "show", "colour", "abc"}, "expected PROG"},
		{[]string{"map", "show", "tag", "0011223344556677"}, "a tag names a program"},
		{[]string{"prog", "load", counterObj}, "expected OBJ PATH"},
		{[]string{"prog", "load", counterObj, "/x/../y"}, "absolute, clean"},
		{[]string{"prog", "load", counterObj, "/x", "colour", "red"}, "expected no more arguments"},
		{[]string{"map", "update", "pinned", "/counts2", "key", "1", "0", "0", "0", "value", "1"}, "1 bytes given, want 8"},
		{[]string{"map", "update", "pinned", "/counts2", "key", "1", "0", "0", "0", "value", "hex", "zz", "0", "0", "0", "0", "0", "0", "0"}, "is not a byte"},
		{[]string{"map", "update", "pinned", "/counts2", "key", "1", "0", "0", "0", "value", "256", "0", "0", "0", "0", "0", "0", "0"}, "is not a byte"},
		{[]string{"map", "update", "pinned", "/counts2", "key", "1", "0", "0", "0", "value", "1", "0", "0", "0", "0", "0", "0", "0", "sometimes"}, "want any, exist or noexist"},
		{[]string{"map", "lookup", "pinned", "/nothing", "key", "1", "0", "0", "0"}, "no map pinned at /nothing"},
		{[]string{"prog", "dump", "jited", "id", "999"}, "999"},
		{[]string{"prog", "dump", "jitted", "id", "1"}, "expected xlated PROG or jited PROG"},
	} {
		_, errOut, code := d.cli(nil, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("bpfhost %s: exit %d, %q; want exit 2 and %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	// A daemon that is not there: a clear error.
	_, errOut, code := (&testDaemon{t: t, bin: d.bin, sock: filepath.Join(t.TempDir(), "none")}).cli(nil, "prog", "show")
	if code == 0 || !strings.Contains(errOut, "start one with") {
		t.Errorf("no daemon: exit %d, %q", code, errOut)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
