package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputFileLimit: --data, --ctx-in and --map-init stop at a bound with
// a clear error and exit 2, where they read any file whole: a sparse file
// one byte over the bound was read (and then refused for another reason)
// and /dev/zero exhausted memory (the runtime's fatal "out of memory").
func TestInputFileLimit(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.bin")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(mapInitLimit + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	pkt := writeFile(t, "pkt.bin", udpFrame([4]byte{10, 0, 0, 1}))
	files := []string{big}
	if _, err := os.Stat("/dev/zero"); err == nil {
		files = append(files, "/dev/zero")
	}
	for _, file := range files {
		for _, args := range [][]string{
			{"--data", file},
			{"--data", pkt, "--ctx-in", file},
			{"--data", pkt, "--map-init", file},
		} {
			args = append([]string{"run", examples + "firewall.o"}, args...)
			out, code := cli(t, args...)
			if code != 2 || !strings.Contains(out, "the most this command reads") {
				t.Errorf("%v: exit %d, want 2 naming the limit:\n%s", args, code, out)
			}
		}
	}
}
