package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"1GiB": 1 << 30, "512MiB": 512 << 20, "64K": 64 << 10, "123": 123, "none": -1, "0": -1, "2G": 2 << 30} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5GiB", "GiB", "99999999999TiB", "1PiB"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) = %d; want an error", in, b)
		}
	}
}

// TestRunMemoryLimit is F5 on the CLI: 16 arrays under the per-map cap fail
// with the default budget, naming the map and the flag.
func TestRunMemoryLimit(t *testing.T) {
	const obj = "../../../shared/security/resources/f5_manyarr16.o"
	if _, err := os.Stat(obj); err != nil {
		t.Skipf("%s: %v", obj, err)
	}
	out, code := cli(t, "run", obj)
	if code == 0 || !strings.Contains(out, `map "m1"`) || !strings.Contains(out, "--memory-limit") {
		t.Errorf("exit %d: %s", code, out)
	}
	out, code = cli(t, "run", obj, "--memory-limit", "16MiB")
	if code == 0 || !strings.Contains(out, `map "m0"`) || !strings.Contains(out, "16777216") {
		t.Errorf("exit %d: %s", code, out)
	}
}

// TestRunTimeout is F7b on the CLI: a nested bpf_loop of 2^46 iterations
// stops at --timeout with a message naming the flag, on both engines.
func TestRunTimeout(t *testing.T) {
	data := filepath.Join(t.TempDir(), "pkt")
	if err := os.WriteFile(data, make([]byte, 64), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, engine := range []string{"interp", "jit"} {
		start := time.Now()
		out, code := cli(t, "run", "../../testdata/cli/nestloop.o", "--data", data, "--engine", engine, "--timeout", "200ms")
		if code == 0 || !strings.Contains(out, "--timeout") || !strings.Contains(out, "deadline exceeded") {
			t.Errorf("%s: exit %d: %s", engine, code, out)
		}
		if d := time.Since(start); d > 30*time.Second { // 2^46 iterations would take days
			t.Errorf("%s: stopped after %v", engine, d)
		}
	}
}
