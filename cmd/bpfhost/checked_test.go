package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestRunChecked runs programs with --checked and --unverified on the JIT:
// a verified program gives the same verdicts as a trusted run, and an
// unverified one that stores through a pointer from the packet stops with
// the access error instead of writing.
func TestRunChecked(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the JIT runs only on amd64")
	}
	args := []string{"run", examples + "firewall.o", "--program", "xdp_firewall", "--pcap", examples + "traffic.pcap",
		"--map-init", examples + "firewall-blocklist.json", "--json", "--engine", "jit"}
	var results [2]runOutput
	for i, extra := range [][]string{nil, {"--checked"}} {
		out, code := cli(t, append(args, extra...)...)
		// The capture's last packet is a runt that Linux refuses too: exit 2.
		if code != 2 {
			t.Fatalf("%v: exit %d, want 2 for the refused runt: %s", extra, code, out)
		}
		if err := json.NewDecoder(strings.NewReader(out)).Decode(&results[i]); err != nil {
			t.Fatal(err)
		}
		if results[i].Engine != "jit" {
			t.Errorf("%v: engine %q, want jit", extra, results[i].Engine)
		}
	}
	if len(results[1].Runs) == 0 || len(results[0].Runs) != len(results[1].Runs) {
		t.Fatalf("runs: %d trusted, %d checked", len(results[0].Runs), len(results[1].Runs))
	}
	for i := range results[0].Runs {
		if results[0].Runs[i].Retval != results[1].Runs[i].Retval || results[0].Runs[i].DataOut != results[1].Runs[i].DataOut {
			t.Errorf("packet %d: trusted %+v, checked %+v", i+1, results[0].Runs[i], results[1].Runs[i])
		}
	}

	pkt := make([]byte, 64)
	binary.LittleEndian.PutUint64(pkt, 0x41414141)
	file := filepath.Join(t.TempDir(), "pkt.bin")
	if err := os.WriteFile(file, pkt, 0o644); err != nil {
		t.Fatal(err)
	}
	wild := "../../testdata/checked/wild.o"
	if out, code := cli(t, "run", wild, "--program", "wild_store", "--data", file, "--engine", "jit"); code == 0 || !strings.Contains(out, "verifier") {
		t.Errorf("verified: exit %d, %s; want the verifier's rejection", code, out)
	}
	out, code := cli(t, "run", wild, "--program", "wild_store", "--data", file, "--engine", "jit", "--unverified")
	if code == 0 || !strings.Contains(out, "invalid memory write of 8 bytes at 0x41414141") {
		t.Errorf("unverified: exit %d, %s; want the access error", code, out)
	}
}
