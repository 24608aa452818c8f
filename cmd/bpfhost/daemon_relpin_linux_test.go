package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/remote"
)

// TestDaemonRelativePinsAgreeWithBpftool: a relative PATH is taken from
// the working directory, as bpftool's is (the kernel resolves a bpffs path
// so): "prog load OBJ rel pinmaps maps", "map pin", "prog pin", "map
// create", "pinned rel" and "unpin" in the test's bpffs directory name the
// same pins as their absolute paths, on both sides. Before, the daemon
// refused relative paths.
func TestDaemonRelativePinsAgreeWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	obj, _ := filepath.Abs(counterObj)
	// in runs args in the bpffs directory on both sides.
	in := func(args ...string) {
		t.Helper()
		k := exec.Command(s.bpftool, args...)
		h := exec.Command(s.d.bin, args...)
		h.Env = append(os.Environ(), asMainEnv+"=1", remote.SocketEnv+"="+s.d.sock)
		k.Dir, h.Dir = s.fs, s.fs
		kout, kerr, kcode := runExit(t, k)
		hout, herr, hcode := runExit(t, h)
		if kcode != 0 || hcode != 0 {
			t.Fatalf("%s in %s: bpftool exit %d %s%s; bpfhost exit %d %s%s", strings.Join(args, " "), s.fs, kcode, kout, kerr, hcode, hout, herr)
		}
	}
	in("prog", "load", obj, "rel", "pinmaps", "relmaps")
	in("map", "pin", "pinned", "relmaps/counts", "counts2")
	in("prog", "pin", "pinned", "rel", "rel2")
	in("map", "create", "made", "type", "hash", "key", "4", "value", "4", "entries", "4", "name", "made")
	in("map", "update", "pinned", "counts2", "key", "1", "0", "0", "0", "value", "2", "0", "0", "0", "0", "0", "0", "0")
	for _, args := range [][]string{
		{"prog", "show", "pinned", s.fs + "/rel2"},
		{"map", "show", "pinned", s.fs + "/made"},
		{"map", "lookup", "pinned", s.fs + "/relmaps/counts", "key", "1", "0", "0", "0"},
	} {
		s.agree(args...)
	}
	// bpftool has no unpin (a pin is a file); bpfhost's takes the path
	// as bpftool takes the others.
	h := exec.Command(s.d.bin, "unpin", "made")
	h.Env = append(os.Environ(), asMainEnv+"=1", remote.SocketEnv+"="+s.d.sock)
	h.Dir = s.fs
	if _, errOut, code := runExit(t, h); code != 0 {
		t.Fatalf("unpin made: %s", errOut)
	}
	if _, _, code := s.d.cli(nil, "map", "show", "pinned", s.fs+"/made"); code == 0 {
		t.Error("the map is still pinned after a relative unpin")
	}
}
