package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAutoloadAgreesWithBpftool loads objects with programs of "?"
// sections with bpftool (libbpf, the kernel) and with the daemon: "prog
// load" pins the object's first program only if libbpf loads it, "prog
// loadall" fails when any program is not loaded (libbpf cannot pin it), a
// program array naming such a program fails the object. The same commands
// succeed and fail, and after each the same pins exist.
func TestAutoloadAgreesWithBpftool(t *testing.T) {
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("no bpftool")
	}
	d := newTestDaemonProc(t)
	fs := t.TempDir()
	if err := unix.Mount("bpf", fs, "bpf", 0, ""); err != nil {
		t.Skipf("cannot mount a bpffs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(fs, unix.MNT_DETACH) })
	d.start()
	// The verdicts below are bpftool 7.1's with libbpf 1.1 (Debian 12), the
	// same as Linux 6.12's libbpf source; another version is compared
	// with, but a difference is only logged.
	ver, _ := exec.Command(bpftool, "version").CombinedOutput()
	documented := strings.Contains(string(ver), "libbpf v1.1")
	obj := func(name string) string {
		p, _ := filepath.Abs("../../testdata/autoload/" + name)
		return p
	}
	for _, tt := range []struct {
		args []string
		ok   bool // bpftool 7.1 with libbpf 1.1, and Linux 6.12's libbpf source
	}{
		{[]string{"prog", "load", obj("autoload.o"), fs + "/a"}, true},
		{[]string{"prog", "loadall", obj("autoload.o"), fs + "/all"}, false},
		{[]string{"prog", "load", obj("first.o"), fs + "/f"}, false},
		{[]string{"prog", "loadall", obj("first.o"), fs + "/fall"}, false},
		{[]string{"prog", "load", obj("tailcall.o"), fs + "/t"}, false},
	} {
		cmdline := strings.Join(tt.args, " ")
		kout, kerr := exec.Command(bpftool, tt.args...).CombinedOutput()
		kpins := pinsUnder(fs)
		// The daemon's pins are in its own namespace, at the same paths.
		_, herr, code := d.cli(nil, tt.args...)
		if (kerr == nil) != tt.ok {
			if documented {
				t.Errorf("%s: bpftool: %v %s; want ok=%v", cmdline, kerr, kout, tt.ok)
			} else {
				t.Logf("%s: this bpftool (%s) differs from 7.1: %v %s", cmdline, strings.TrimSpace(string(ver)), kerr, kout)
			}
			continue
		}
		if (code == 0) != tt.ok {
			t.Errorf("%s: bpfhost: exit %d %s; want ok=%v", cmdline, code, herr, tt.ok)
		}
		if !tt.ok && !strings.Contains(herr, `"?`) {
			t.Errorf("%s: bpfhost's error %q does not name the \"?\" section", cmdline, herr)
		}
		hout, _, _ := d.cli(nil, "prog", "show", "pinned", tt.args[3])
		if pinned := hout != ""; pinned != kpins[tt.args[3]] {
			t.Errorf("%s: pinned at %s: bpftool %v, bpfhost %v", cmdline, tt.args[3], kpins[tt.args[3]], pinned)
		}
	}
}

// pinsUnder returns the paths of the files under dir.
func pinsUnder(dir string) map[string]bool {
	pins := map[string]bool{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			pins[p] = true
		}
		return nil
	})
	return pins
}

// TestAutoloadExec: exec --attach loads the program it names although its
// section begins with "?".
func TestAutoloadExec(t *testing.T) {
	out, code, rep := bpfhostExec(t, []string{"cgroup/connect4=" + autoloadDir + "sock.o:deny_connect4"}, "true")
	if code != 0 || len(rep.Programs) != 1 || rep.Programs[0].Name != "deny_connect4" {
		t.Errorf("exec --attach ...:deny_connect4: exit %d, programs %+v, output %s", code, rep.Programs, out)
	}
}

// TestAutoloadAttach: attach xdp --program loads the program it names
// although its section begins with "?", and says once which programs of
// the object it skipped.
func TestAutoloadAttach(t *testing.T) {
	tp := newAttachTopology(t, "q", 86)
	detach := tp.attach(t, autoloadDir+"autoload.o", "--program", "xdp_drop")
	stdout, stderr, err := detach(0)
	if err != nil || !strings.Contains(stdout, `"program":"xdp_drop"`) {
		t.Errorf("attach --program xdp_drop: %v, %s", err, stdout)
	}
	const note = `skipped 2 programs of "?" sections, not loaded automatically (as libbpf): tc_shot, xdp_unsafe`
	if strings.Count(stderr, note) != 1 {
		t.Errorf("attach's stderr %q does not say once %q", stderr, note)
	}
}
