package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// cli runs the CLI in-process and returns stdout followed by stderr, and
// the exit code.
func cli(t *testing.T, args ...string) (string, int) {
	t.Helper()
	stdout, stderr, code := cli2(t, args...)
	return stdout + stderr, code
}

// cli2 runs the CLI in-process and returns stdout, stderr and the exit code.
func cli2(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := execute(args, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

const examples = "../../examples/"

func TestRunFirewallJSON(t *testing.T) {
	out, stderr, code := cli2(t, "run", examples+"firewall.o", "--program", "xdp_firewall",
		"--pcap", examples+"traffic.pcap", "--map-init", examples+"firewall-blocklist.json", "--json")
	// Packet 13 is a runt Linux refuses: bad input, exit 2, said in the
	// document and on stderr.
	if code != 2 || !strings.Contains(stderr, "1 packet of 13 refused") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var res runOutput
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if res.Program != "xdp_firewall" || res.Type != "xdp" || (res.Engine != "interp" && res.Engine != "jit") {
		t.Errorf("header: %+v", res)
	}
	if len(res.Runs) != 13 {
		t.Fatalf("%d runs, want one per packet (13)", len(res.Runs))
	}
	// Packets 3 (203.0.113.7), 7 (2001:db8:bad::7) and 10 (198.51.100.9)
	// come from blocked prefixes; 13 is a runt Linux refuses.
	for i, r := range res.Runs {
		want := uint32(2)
		switch i + 1 {
		case 3, 7, 10:
			want = 1
		}
		if i+1 == 13 {
			if r.Error == "" {
				t.Errorf("run 13: no error for a 10-byte packet")
			}
			continue
		}
		if r.Retval != want || r.DataOut == "" || r.Error != "" {
			t.Errorf("run %d: %+v, want retval %d", i+1, r, want)
		}
	}
	drops := res.Maps["drops"]
	if len(drops) != 3 {
		t.Errorf("drops: %+v, want one entry per rule", drops)
	}
	for _, e := range res.Maps["proto_stats"] {
		if e.Value != "" || len(e.Values) == 0 {
			t.Fatalf("per-CPU entry %+v: want values per slot", e)
		}
	}
	if res.Printk == nil {
		t.Errorf("printk must be an array")
	}
	if res.Error != "1 packet of 13 refused" {
		t.Errorf("error %q", res.Error)
	}
}

func TestRunData(t *testing.T) {
	pkt := make([]byte, 60)
	pkt[12], pkt[13], pkt[14], pkt[23] = 0x08, 0x00, 0x45, 17
	file := filepath.Join(t.TempDir(), "pkt.bin")
	if err := os.WriteFile(file, pkt, 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := cli(t, "run", examples+"config.o", "--data", file, "--repeat", "3")
	if code != 0 || !strings.Contains(out, "XDP_PASS") || !strings.Contains(out, "map .bss") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestObjectShowAndDisasm(t *testing.T) {
	out, code := cli(t, "object", "show", examples+"dispatcher.o", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var obj struct {
		Programs []struct{ Name, Type string }
		Maps     []struct{ Name, Type string }
	}
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatal(err)
	}
	if len(obj.Programs) != 4 || len(obj.Maps) != 2 {
		t.Errorf("object: %+v", obj)
	}
	out, code = cli(t, "disasm", examples+"firewall.o", "--program", "xdp_firewall")
	for _, want := range []string{"xdp_firewall (section xdp):", "r7 = *(u32 *)(r1 + 4)", "call 1", "exit", "firewall.c:"} {
		if !strings.Contains(out, want) {
			t.Errorf("disasm lacks %q (exit %d)", want, code)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "nonexistent.o"}, 2, "no such file"},
		{[]string{"run", examples + "dispatcher.o"}, 2, "--program is required"},
		{[]string{"run", examples + "firewall.o", "--program", "nope"}, 2, `no program "nope"`},
		{[]string{"run", examples + "firewall.o", "--data", "a", "--pcap", "b"}, 2, "exclude each other"},
		{[]string{"run", examples + "firewall.o", "--pcap", examples + "firewall.c"}, 2, "pcap"},
		{[]string{"object", "show", examples + "parse.h"}, 2, ""},
	}
	for _, tt := range tests {
		out, code := cli(t, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.msg) {
			t.Errorf("%v: exit %d, %q; want exit %d mentioning %q", tt.args, code, out, tt.code, tt.msg)
		}
	}
}

// TestPrintk checks that bpf_printk lines reach the JSON output, in order.
func TestPrintk(t *testing.T) {
	out, _, code := cli2(t, "run", "../../testdata/cli/printk.o", "--pcap", examples+"traffic.pcap", "--json")
	if code != 2 { // packet 13 is refused
		t.Fatalf("exit %d: %s", code, out)
	}
	var res runOutput
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Printk) != 12 || res.Printk[0] != "packet of 60 bytes, first byte 2" || res.Printk[4] != "packet of 82 bytes, first byte 2" {
		t.Errorf("printk: %q", res.Printk)
	}
}

// TestConst checks --const: DNS (port 53) packets get the configured verdict.
func TestConst(t *testing.T) {
	out, _, code := cli2(t, "run", examples+"config.o", "--pcap", examples+"traffic.pcap", "--json",
		"--const", "blocked_port=53", "--const", "verdict_on_match=3")
	if code != 2 { // packet 13 is refused
		t.Fatalf("exit %d: %s", code, out)
	}
	var res runOutput
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint32{2, 3, 2, 2, 2, 2, 3, 2, 2, 2, 3, 2} {
		if res.Runs[i].Retval != want {
			t.Errorf("packet %d: retval %d, want %d", i+1, res.Runs[i].Retval, want)
		}
	}
	if _, code := cli(t, "run", examples+"config.o", "--const", "seen=1"); code == 0 {
		t.Error("--const on a .bss variable accepted")
	}
}

// TestDisasmJited checks that --jited prints machine code under each eBPF
// instruction (where the JIT exists).
func TestDisasmJited(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the JIT exists on amd64 only")
	}
	out, code := cli(t, "disasm", examples+"firewall.o", "--program", "xdp_firewall", "--jited")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{"xdp_firewall (section xdp, jited):", "<entry>:", "     0:\t", "mov ", "ret"} {
		if !strings.Contains(out, want) {
			t.Errorf("--jited output lacks %q", want)
		}
	}
}

// TestVerify checks bpfhost verify: verdicts, findings with source lines,
// the JSON shape and the exit status (0 accepted, 1 rejected, 2 unreadable).
func TestVerify(t *testing.T) {
	out, code := cli(t, "verify", examples+"firewall.o")
	if code != 0 || !strings.Contains(out, "accepted") {
		t.Errorf("firewall: exit %d\n%s", code, out)
	}
	out, code = cli(t, "verify", "../../verifier/testdata/unsafe.o", "--json")
	if code != 1 {
		t.Fatalf("unsafe.o: exit %d, want 1\n%s", code, out)
	}
	var res struct {
		Programs []struct {
			Name, Section, Type, Verdict string
			Errors                       []struct {
				Insn    int    `json:"insn"`
				Source  string `json:"source"`
				Message string `json:"message"`
			}
			Instructions int   `json:"instructions"`
			DurationNS   int64 `json:"duration_ns"`
		}
	}
	// The error line follows the JSON document on the same stream here.
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range res.Programs {
		if p.Verdict != "rejected" || len(p.Errors) == 0 || p.Instructions == 0 {
			t.Errorf("%s: %+v", p.Name, p)
		}
		if p.Name == "off_by_one" {
			found = true
			e := p.Errors[0]
			if e.Insn != 5 || e.Source != "unsafe.c:31" || !strings.Contains(e.Message, "only 14 bytes proven") {
				t.Errorf("off_by_one: %+v", e)
			}
		}
	}
	if !found {
		t.Error("off_by_one not reported")
	}
	if _, code := cli(t, "verify", "nonexistent.o"); code != 2 {
		t.Errorf("unreadable object: exit %d, want 2", code)
	}
	if out, code := cli(t, "verify", examples+"firewall.o", "--type", "socket_filter"); code != 1 {
		t.Errorf("an XDP program verified as a socket filter: exit %d\n%s", code, out)
	}
	if out, _ := cli(t, "verify", "../../verifier/testdata/unsafe.o", "--program", "off_by_one", "--verbose"); strings.Count(out, "\n") < 8 {
		t.Errorf("--verbose printed no states:\n%s", out)
	}
}
