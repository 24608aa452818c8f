package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const cliData = "../../testdata/cli/"

// writeFile writes b to a file in a test directory and returns its path.
func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// udpFrame is an Ethernet/IPv4/UDP frame from src.
func udpFrame(src [4]byte) []byte {
	pkt := make([]byte, 60)
	pkt[12], pkt[13] = 0x08, 0x00
	pkt[14], pkt[17], pkt[22], pkt[23] = 0x45, 46, 64, 17
	copy(pkt[26:], src[:])
	copy(pkt[30:], []byte{192, 168, 1, 10})
	return pkt
}

// TestExitStatus checks the one rule every command follows: 0 done, 1 the
// program or the verdict failed, 2 bad input or usage.
func TestExitStatus(t *testing.T) {
	short := writeFile(t, "short.bin", make([]byte, 10))
	pkt := writeFile(t, "pkt.bin", udpFrame([4]byte{10, 0, 0, 1}))
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", examples + "firewall.o", "--data", pkt}, 0, "XDP_PASS"},
		{[]string{"run", examples + "firewall.o", "--data", short}, 2, "at least 14 bytes"},
		{[]string{"run", examples + "firewall.o", "--pcap", examples + "traffic.pcap"}, 2, "1 packet of 13 refused"},
		{[]string{"run", cliData + "select.o", "--program", "xdp_unsafe", "--data", pkt}, 1, "xdp_unsafe"},
		{[]string{"verify", cliData + "select.o"}, 1, "1 of 3 programs rejected"},
		{[]string{"verify", cliData + "textonly.o"}, 2, "no program in a named section"},
		{[]string{"run", cliData + "textonly.o"}, 2, "no programs to run"},
		{[]string{"disasm", cliData + "textonly.o"}, 2, "no programs"},
		{[]string{"disasm", examples + "firewall.o", "--program", "nope"}, 2, `no program "nope"`},
		{[]string{"run", examples + "firewall.o", "--bogus"}, 2, "unknown flag"},
		{[]string{"bogus"}, 2, "unknown command"},
		{[]string{"verify"}, 2, "arg"},
		{[]string{"verify", examples + "firewall.o", "--type", "nope"}, 2, "or one of: "},
	}
	for _, tt := range tests {
		out, code := cli(t, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.msg) {
			t.Errorf("%v: exit %d, want %d mentioning %q:\n%s", tt.args, code, tt.code, tt.msg, out)
		}
	}
}

// TestJSONErrors checks that with --json an error is a JSON document on
// stdout as well as text on stderr, and that a document that already tells
// of the failure is not followed by a second one.
func TestJSONErrors(t *testing.T) {
	stdout, stderr, code := cli2(t, "run", "nonexistent.o", "--json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 2 {
		t.Fatalf("exit %d, stdout %q: %v", code, stdout, err)
	}
	if e, _ := doc["error"].(string); !strings.Contains(e, "no such file") || !strings.Contains(stderr, "no such file") {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	stdout, stderr, code = cli2(t, "verify", cliData+"select.o", "--json")
	dec := json.NewDecoder(strings.NewReader(stdout))
	var res struct {
		Programs []struct{ Name, Verdict string }
	}
	if err := dec.Decode(&res); err != nil || code != 1 || len(res.Programs) != 3 || dec.More() {
		t.Errorf("verify --json: exit %d, one document wanted: %q (%v)", code, stdout, err)
	}
	if !strings.Contains(stderr, "rejected") {
		t.Errorf("stderr %q", stderr)
	}
}

// TestRunSelectedProgram checks that run loads only the program asked for
// and what it tail-calls: another, unsafe program of the object does not
// stop it.
func TestRunSelectedProgram(t *testing.T) {
	pkt := writeFile(t, "pkt.bin", udpFrame([4]byte{10, 0, 0, 1}))
	out, code := cli(t, "run", cliData+"select.o", "--program", "xdp_entry", "--data", pkt)
	if code != 0 || !strings.Contains(out, "XDP_TX") { // xdp_leaf's verdict, by tail call
		t.Errorf("exit %d:\n%s", code, out)
	}
	out, code = cli(t, "disasm", cliData+"select.o", "--program", "xdp_entry", "--jited")
	if runtime.GOARCH == "amd64" && (code != 0 || !strings.Contains(out, "xdp_entry")) {
		t.Errorf("disasm --jited: exit %d:\n%s", code, out)
	}
}

// TestConstRange checks that --const refuses a value that does not fit the
// variable, naming it and its size, and stores one that does.
func TestConstRange(t *testing.T) {
	pkt := writeFile(t, "pkt.bin", udpFrame([4]byte{10, 0, 0, 1}))
	for _, tt := range []struct {
		set  string
		code int
		msg  string
	}{
		{"c8=256", 2, "c8 (const volatile __u8, 1 byte): 256 does not fit"},
		{"c16=70000", 2, "c16 (const volatile __u16, 2 bytes): 70000 does not fit"},
		{"c32=4294967296", 2, "c32 (const volatile __u32, 4 bytes)"},
		{"c8=-1", 2, "unsigned"},
		{"s32=2147483648", 2, "at most 2147483647"},
		{"s32=-2147483649", 2, "at least -2147483648"},
		{"c64=18446744073709551616", 2, "64 bits"},
		{"c16=65535", 0, "retval 65540"}, // 1 + 65535 + 3 - 4 + 5
		{"s32=-8", 0, "retval 3"},        // 1 + 2 + 3 - 8 + 5
	} {
		out, code := cli(t, "run", cliData+"consts.o", "--const", tt.set, "--data", pkt, "--json")
		if tt.code == 0 {
			var res runOutput
			if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
				t.Errorf("%s: exit %d: %s", tt.set, code, out)
				continue
			}
			out = "retval " + itoa(res.Runs[0].Retval)
		}
		if code != tt.code || !strings.Contains(out, tt.msg) {
			t.Errorf("--const %s: exit %d, want %d mentioning %q:\n%s", tt.set, code, tt.code, tt.msg, out)
		}
	}
}

func itoa(v uint32) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMapInitPerCPU checks that one per-CPU value fills every CPU's slot,
// whatever the number of CPUs, and that a list of the wrong length is an
// error that says how many CPUs there are.
func TestMapInitPerCPU(t *testing.T) {
	pkt := writeFile(t, "pkt.bin", udpFrame([4]byte{10, 0, 0, 1}))
	one := writeFile(t, "one.json", []byte(`{"proto_stats": [{"key": "07000000", "value": "05000000000000000600000000000000"}]}`))
	out, code := cli(t, "run", examples+"firewall.o", "--data", pkt, "--map-init", one, "--json")
	var res runOutput
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, e := range res.Maps["proto_stats"] {
		if e.Key != "07000000" {
			continue
		}
		if len(e.Values) != runtime.GOMAXPROCS(0) {
			t.Errorf("%d slots, want %d", len(e.Values), runtime.GOMAXPROCS(0))
		}
		for _, v := range e.Values {
			if v != "05000000000000000600000000000000" {
				t.Errorf("slot value %s", v)
			}
		}
	}
	list := strings.TrimSuffix(strings.Repeat(`"00", `, runtime.GOMAXPROCS(0)+1), ", ")
	bad := writeFile(t, "bad.json", []byte(`{"proto_stats": [{"key": "07000000", "values": [`+list+`]}]}`))
	if out, code := cli(t, "run", examples+"firewall.o", "--data", pkt, "--map-init", bad); code != 2 || !strings.Contains(out, "CPUs") {
		t.Errorf("a list of the wrong length: exit %d:\n%s", code, out)
	}
}

func TestVersion(t *testing.T) {
	out, code := cli(t, "version")
	if code != 0 || !strings.HasPrefix(out, "bpfhost ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("exit %d: %q", code, out)
	}
}

// TestTypeCaseInsensitive checks that --type ignores case.
func TestTypeCaseInsensitive(t *testing.T) {
	if out, code := cli(t, "verify", examples+"firewall.o", "--type", "XDP"); code != 0 {
		t.Errorf("--type XDP: exit %d:\n%s", code, out)
	}
}

// TestAsmRunConformanceData checks that asm run reads the conformance
// suite's .data tests, runs them on their memory and checks their result.
func TestAsmRunConformanceData(t *testing.T) {
	good := writeFile(t, "good.data", []byte("-- asm\nmov %r0, %r2\nexit\n-- mem\n00 00 00 01\n00 00 00 02\n-- result\n0x8\n"))
	if out, code := cli(t, "asm", "run", good); code != 0 || !strings.Contains(out, "r0            0x8") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	wrong := writeFile(t, "wrong.data", []byte("-- asm\nmov %r0, 1\nexit\n-- result\n0x2\n"))
	if out, code := cli(t, "asm", "run", wrong); code != 1 || !strings.Contains(out, "expects 0x2") {
		t.Errorf("a wrong result: exit %d:\n%s", code, out)
	}
	neg := writeFile(t, "neg.data", []byte("-- raw\n04 10 00 00 01 00 00 00\n95 00 00 00 00 00 00 00\n-- error\nbad src\n"))
	if out, code := cli(t, "asm", "run", neg); code != 0 || !strings.Contains(out, "expected by the test") {
		t.Errorf("a negative test: exit %d:\n%s", code, out)
	}
	if out, code := cli(t, "asm", "disasm", good); code != 0 || !strings.Contains(out, "exit") {
		t.Errorf("asm disasm: exit %d:\n%s", code, out)
	}
}

func TestPlural(t *testing.T) {
	for _, tt := range []struct {
		n          int
		noun, want string
	}{{0, "entry", "0 entries"}, {1, "entry", "1 entry"}, {2, "packet", "2 packets"}, {1, "run", "1 run"}} {
		if got := plural(tt.n, tt.noun); got != tt.want {
			t.Errorf("plural(%d, %q) = %q", tt.n, tt.noun, got)
		}
	}
	if out, _ := cli(t, "asm", "run", writeFile(t, "a.s", []byte("mov %r0, 1\nexit\n"))); !strings.Contains(out, "(checked mode, 1 run)") {
		t.Errorf("asm run: %s", out)
	}
}

// TestConformanceExitStatus checks that a failing conformance test is a
// failed verdict (exit 1) and a missing suite bad input (exit 2).
func TestConformanceExitStatus(t *testing.T) {
	dir := t.TempDir()
	line := `{"name": "r0 is 1", "program": "b4000000010000009500000000000000", "result": "0x2"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "fixtures.jsonl"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := cli(t, "conformance", dir); code != 1 || !strings.Contains(out, "1 conformance test of 1 failed") {
		t.Errorf("a failing test: exit %d:\n%s", code, out)
	}
	if out, code := cli(t, "conformance", filepath.Join(dir, "nope")); code != 2 {
		t.Errorf("no suite: exit %d:\n%s", code, out)
	}
}
