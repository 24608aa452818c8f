package main

// Findings of the issue 14 review (the daemon used as a demanding and a
// hostile user would), each end to end with the real binary.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestDaemonSocketNotASocket: --socket naming an existing file that is not
// a socket is refused and the file is left alone. Before, the daemon took
// it for a stale socket, deleted it and listened there: "--socket
// /etc/passwd" removed the file.
func TestDaemonSocketNotASocket(t *testing.T) {
	d := newTestDaemonProc(t)
	victim := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Before the fix the daemon served on the path until killed: settle
	// bounds the wait (the refusal takes milliseconds).
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.bin, "daemon", "--state", d.state, "--socket", victim, "--verify-in-process")
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ctx.Err() != nil || ee.ExitCode() == 0 {
		t.Errorf("daemon on a regular file: %v (%v), want a failure at once\n%s", err, ctx.Err(), &stderr)
	}
	if !strings.Contains(stderr.String(), "not a socket") {
		t.Errorf("stderr %q, want it to say the path is not a socket", &stderr)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
		t.Errorf("the file at --socket is %q, %v; want it untouched", b, err)
	}
}

// TestDaemonUnknownCommand: an unknown subcommand of prog, map, link or
// net fails with exit 2, as bpftool's "unknown command" does; the group
// alone shows its objects, as in bpftool. Before, cobra printed the usage
// and exited 0, so "bpfhost map updat ..." in a script seemed to work.
func TestDaemonUnknownCommand(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", counterObj, "/c", "pinmaps", "/cm")
	for _, args := range [][]string{{"prog", "lod", counterObj, "/x"}, {"map", "crate", "/m", "type", "hash"}, {"link", "bogus"}, {"net", "bogus"}} {
		_, errOut, code := d.cli(nil, args...)
		if code != exitUsage || !strings.Contains(errOut, "unknown command") {
			t.Errorf("bpfhost %s: exit %d, %q; want exit 2 and \"unknown command\"", strings.Join(args, " "), code, errOut)
		}
	}
	if out := d.must("prog"); !strings.Contains(out, "name count_packets") {
		t.Errorf("bpfhost prog: %q, want the programs as prog show", out)
	}
	if out := d.must("-j", "map"); !strings.Contains(out, `"name":"counts"`) {
		t.Errorf("bpfhost -j map: %q, want the maps as map show", out)
	}
	if out := d.must("map", "help"); !strings.Contains(out, "bpfhost map { show | list }") {
		t.Errorf("bpfhost map help: %q", out)
	}
	// unpin, a command of its own with the same flags, still runs.
	d.must("map", "pin", "pinned", "/cm/counts", "/again")
	d.must("unpin", "/again")
	if _, errOut, code := d.cli(nil, "map", "show", "pinned", "/again"); code == 0 || !strings.Contains(errOut, "/again") {
		t.Errorf("map show of an unpinned path: exit %d, %q", code, errOut)
	}
}

// TestDaemonQueuePushFlags: "map push ... exist" on a full queue replaces
// its oldest value, as bpftool (which pushes with its update and its
// UPDATE_FLAGS) does against Linux; peek and pop print bpftool's JSON with
// the empty key. Before, the flags were refused as unexpected arguments and
// the JSON had no "key".
func TestDaemonQueuePushFlags(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", "../../daemon/testdata/queue.o", "/q", "pinmaps", "/qm")
	for i := 1; i <= 4; i++ {
		d.must("map", "push", "pinned", "/qm/fifo", "value", strconv.Itoa(i), "0", "0", "0", "any")
	}
	if _, errOut, code := d.cli(nil, "map", "push", "pinned", "/qm/fifo", "value", "5", "0", "0", "0"); code == 0 || !strings.Contains(errOut, "full") {
		t.Errorf("push onto a full queue: exit %d, %q", code, errOut)
	}
	d.must("map", "enqueue", "pinned", "/qm/fifo", "value", "9", "0", "0", "0", "exist")
	var got []string
	for i := 0; i < 4; i++ {
		got = append(got, strings.TrimSpace(d.must("-j", "map", "pop", "pinned", "/qm/fifo")))
	}
	want := []string{
		`{"key":[],"value":["0x02","0x00","0x00","0x00"]}`,
		`{"key":[],"value":["0x03","0x00","0x00","0x00"]}`,
		`{"key":[],"value":["0x04","0x00","0x00","0x00"]}`,
		`{"key":[],"value":["0x09","0x00","0x00","0x00"]}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("pops after push exist onto a full queue:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, errOut, code := d.cli(nil, "map", "push", "pinned", "/qm/fifo", "value", "1", "0", "0", "0", "sometimes"); code != exitUsage || !strings.Contains(errOut, "want any, exist or noexist") {
		t.Errorf("push with bad flags: exit %d, %q", code, errOut)
	}
}

// TestDaemonXlatedNamesMaps: "prog dump xlated" prints a map reference as
// bpftool does, map[id:N] with the ID "map show" gives, and a helper call
// by its name, and "linum" adds where each source line is. Before, the
// lddw printed the map's host address in the daemon ("r1 = 34608346050496
// ll") and linum was refused.
func TestDaemonXlatedNamesMaps(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", counterObj, "/c", "pinmaps", "/cm")
	var counts, total struct{ ID uint32 }
	json.Unmarshal([]byte(d.must("-j", "map", "show", "pinned", "/cm/counts")), &counts)
	json.Unmarshal([]byte(d.must("-j", "map", "show", "pinned", "/cm/total")), &total)
	if counts.ID == 0 || total.ID == 0 {
		t.Fatal("map show -j: no IDs")
	}
	out := d.must("prog", "dump", "xlated", "pinned", "/c")
	for _, want := range []string{
		fmt.Sprintf("(18) r1 = map[id:%d]\n", counts.ID),
		fmt.Sprintf("(18) r1 = map[id:%d]\n", total.ID),
		"(85) call bpf_map_lookup_elem#1\n",
		"(85) call bpf_map_update_elem#2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("xlated lacks %q:\n%s", want, out)
		}
	}
	if regexp.MustCompile(`\(18\) r[0-9] = 0x`).MatchString(out) {
		t.Errorf("xlated prints a 64-bit immediate (a host address?):\n%s", out)
	}
	if out := d.must("prog", "dump", "xlated", "pinned", "/c", "linum"); !strings.Contains(out, "counter.c line_num:") {
		t.Errorf("xlated linum:\n%s", out)
	}
	var insns []map[string]any
	if err := json.Unmarshal([]byte(d.must("-j", "prog", "dump", "xlated", "pinned", "/c", "linum")), &insns); err != nil {
		t.Fatal(err)
	}
	if f, _ := insns[0]["file"].(string); !strings.HasSuffix(f, "counter.c") || insns[0]["line_num"] == nil {
		t.Errorf("xlated -j linum: first instruction %v, want file and line_num", insns[0])
	}
	if out := d.must("-j", "prog", "dump", "xlated", "pinned", "/c"); strings.Contains(out, `"file"`) {
		t.Errorf("xlated -j without linum has files: %s", out)
	}
}

// TestDaemonRunOutputToStdout: "prog run ... data_out -" prints the packet
// as bpftool does, a hex dump or, with -j, "data_out" as an array of byte
// values inside the one JSON document. Before, the raw bytes went to stdout
// ahead of the JSON, which then did not parse.
func TestDaemonRunOutputToStdout(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", counterObj, "/c")
	pkt := filepath.Join(t.TempDir(), "pkt")
	in := []byte("Hello, bpftool world!\x01\x7f~")
	os.WriteFile(pkt, in, 0o644)
	out := d.must("prog", "run", "pinned", "/c", "data_in", pkt, "data_out", "-")
	// bpftool's dump of the same bytes (bpftool prog run ... data_out -).
	want := "0000000\t4865 6c6c 6f2c 2062 7066 746f 6f6c 2077 | Hello, b pftool w\n" +
		"0000010\t6f72 6c64 2101 7f7e                     | orld!..~ \n" +
		"Return value: 2, duration: "
	if !strings.HasPrefix(out, want) {
		t.Errorf("prog run data_out -:\n%q\nwant it to begin\n%q", out, want)
	}
	var doc struct {
		DataOut []int `json:"data_out"`
		Retval  *int  `json:"retval"`
	}
	out = d.must("-j", "prog", "run", "pinned", "/c", "data_in", pkt, "data_out", "-")
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Retval == nil || *doc.Retval != 2 || len(doc.DataOut) != len(in) {
		t.Fatalf("prog run -j data_out -: %q: %v", out, err)
	}
	for i, c := range in {
		if doc.DataOut[i] != int(c) {
			t.Fatalf("data_out %v, want %v", doc.DataOut, in)
		}
	}
}

// TestDaemonRunShortContext: ctx_in may be shorter than xdp_md (the rest
// is zero) or longer with a zero tail, as Linux's bpf_ctx_init takes it;
// a non-zero tail is E2BIG. Before, anything but 24 bytes was refused.
func TestDaemonRunShortContext(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", counterObj, "/c")
	dir := t.TempDir()
	pkt, short, long, bad := filepath.Join(dir, "pkt"), filepath.Join(dir, "short"), filepath.Join(dir, "long"), filepath.Join(dir, "bad")
	os.WriteFile(pkt, make([]byte, 24), 0o644)
	// data 0, data_end 24: the whole packet.
	os.WriteFile(short, []byte{0, 0, 0, 0, 24, 0, 0, 0}, 0o644)
	os.WriteFile(long, append([]byte{0, 0, 0, 0, 24}, make([]byte, 27)...), 0o644)
	os.WriteFile(bad, append(append([]byte{0, 0, 0, 0, 24}, make([]byte, 26)...), 1), 0o644)
	for _, ctx := range []string{short, long} {
		var doc struct {
			CtxOut []int `json:"ctx_out"`
			Retval int   `json:"retval"`
		}
		out := d.must("-j", "prog", "run", "pinned", "/c", "data_in", pkt, "ctx_in", ctx, "ctx_out", "-")
		if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Retval != 2 || len(doc.CtxOut) != 24 || doc.CtxOut[4] != 24 {
			t.Errorf("prog run ctx_in %s: %q, %v; want XDP_PASS and a 24-byte ctx_out with data_end 24", filepath.Base(ctx), out, err)
		}
	}
	if _, errOut, code := d.cli(nil, "prog", "run", "pinned", "/c", "data_in", pkt, "ctx_in", bad); code == 0 || !strings.Contains(errOut, "not zero") {
		t.Errorf("prog run with a non-zero context tail: exit %d, %q", code, errOut)
	}
}

// TestDaemonProgShowJitedBytes: prog show gives the size of the machine
// code as bpftool's "jited 788B" and "bytes_jited", the bytes "prog dump
// jited" lists; an interpreted program is "not jited" without it. Before,
// the text said "jited" with no size and the JSON had no bytes_jited.
func TestDaemonProgShowJitedBytes(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the JIT is amd64's")
	}
	d := newTestDaemonProc(t)
	d.start()
	d.must("prog", "load", counterObj, "/c")
	var info struct {
		Jited      bool `json:"jited"`
		BytesJited int  `json:"bytes_jited"`
	}
	if err := json.Unmarshal([]byte(d.must("-j", "prog", "show", "pinned", "/c")), &info); err != nil || !info.Jited || info.BytesJited == 0 {
		t.Fatalf("prog show -j: %+v, %v", info, err)
	}
	var blocks []api.JitedBlock
	if err := json.Unmarshal([]byte(d.must("-j", "prog", "dump", "jited", "pinned", "/c")), &blocks); err != nil {
		t.Fatal(err)
	}
	end := 0
	for _, b := range blocks {
		for _, line := range b.Code {
			// "0f 85 1a 00 00 00     jne ...": the bytes, then two spaces.
			hexPart, _, _ := strings.Cut(line, "  ")
			end = max(end, b.Offset)
			b.Offset += len(strings.Fields(hexPart))
			end = max(end, b.Offset)
		}
	}
	if end != info.BytesJited {
		t.Errorf("bytes_jited %d, the jited dump ends at %d", info.BytesJited, end)
	}
	if out := d.must("prog", "show", "pinned", "/c"); !strings.Contains(out, fmt.Sprintf("jited %dB", info.BytesJited)) {
		t.Errorf("prog show: %q, want \"jited %dB\"", out, info.BytesJited)
	}

	interp := newTestDaemonProc(t)
	interp.args = []string{"--no-jit"}
	interp.start()
	interp.must("prog", "load", counterObj, "/c")
	if out := interp.must("-j", "prog", "show", "pinned", "/c"); strings.Contains(out, "bytes_jited") || !strings.Contains(out, `"jited":false`) {
		t.Errorf("prog show -j of an interpreted program: %s", out)
	}
	if out := interp.must("prog", "show", "pinned", "/c"); !strings.Contains(out, "not jited") {
		t.Errorf("prog show of an interpreted program: %q", out)
	}
}

// TestDaemonStateDirWritableByOthers: a state directory that others may
// write is refused at start (they could swap in units of their own for
// the daemon to load); one the daemon owns alone is used. Before, any
// directory was used.
func TestDaemonStateDirWritableByOthers(t *testing.T) {
	d := newTestDaemonProc(t)
	if err := os.Mkdir(d.state, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(d.state, 0o777)
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.bin, "daemon", "--state", d.state, "--socket", d.sock, "--verify-in-process")
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || ctx.Err() != nil || !strings.Contains(stderr.String(), "writable by its group or others") {
		t.Errorf("daemon on a 0777 state directory: %v (%v)\n%s", err, ctx.Err(), &stderr)
	}
	os.Chmod(d.state, 0o755)
	d.start()
	d.must("prog", "show")
}

// TestDaemonLoadPinsFirstInObject: "prog load" pins the object's first
// program in its ELF order, as bpftool (libbpf's first program) does:
// handle_tcp of examples/dispatcher.o and entry of refs.o, which bpftool
// v7.1 pins against Linux. Before, the first by name was pinned
// (handle_icmp, egress): another program than bpftool's.
func TestDaemonLoadPinsFirstInObject(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	for _, tc := range []struct{ obj, want string }{
		{"../../examples/dispatcher.o", "handle_tcp"},
		{"../../daemon/testdata/refs.o", "entry"},
		{counterObj, "count_packets"},
	} {
		pin := "/" + strings.TrimSuffix(filepath.Base(tc.obj), ".o")
		d.must("prog", "load", tc.obj, pin)
		var p struct{ Name string }
		json.Unmarshal([]byte(d.must("-j", "prog", "show", "pinned", pin)), &p)
		if p.Name != tc.want {
			t.Errorf("prog load %s pinned %q, want %q (bpftool's)", tc.obj, p.Name, tc.want)
		}
	}
}

// TestDaemonPinmapsGlobalData: "pinmaps DIR" pins an object's .data,
// .rodata and .bss maps under the names libbpf gives them, as bpftool does
// against Linux: <object>_rodata, the object's name cut so that its
// prefix leaves room for 7 characters of section ("averylon_bss" for
// averylongobjectname.v2.o, as bpftool v7.1 pins it). Before, they were
// pinned as DIR/.rodata, where a bpftool script does not look.
func TestDaemonPinmapsGlobalData(t *testing.T) {
	d := newTestDaemonProc(t)
	d.start()
	long := filepath.Join(t.TempDir(), "averylongobjectname.v2.o")
	copyFile(t, "../../examples/config.o", long)
	d.must("prog", "load", "../../examples/config.o", "/c", "pinmaps", "/cm")
	d.must("prog", "load", long, "/l", "pinmaps", "/lm")
	for _, pin := range []string{"/cm/config_rodata", "/cm/config_data", "/cm/config_bss", "/lm/averylon_rodata", "/lm/averylon_data", "/lm/averylon_bss"} {
		if _, errOut, code := d.cli(nil, "map", "show", "pinned", pin); code != 0 {
			t.Errorf("map show pinned %s: exit %d, %s", pin, code, errOut)
		}
	}
}
