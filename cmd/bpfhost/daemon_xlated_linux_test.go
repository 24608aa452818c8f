package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDaemonXlatedAgreesWithBpftool: "prog dump xlated" of a program that
// Linux and bpfhost load as the same instructions (daemon/testdata/
// xlated.c: no helper calls, nothing the kernel rewrites but the context
// loads, which bpfhost rewrites alike) prints the same text as bpftool,
// byte for byte apart from the map IDs: the prototype from BTF, every
// line record, the kernel's syntax ("(r1 +8)", "goto pc+3", "0x0"),
// plain, with linum and as JSON. Before, the daemon printed LLVM's syntax
// under the bare function name.
func TestDaemonXlatedAgreesWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	obj, _ := filepath.Abs("../../daemon/testdata/xlated.o")
	p := s.fs + "/x"
	if _, _, ok := s.both("prog", "load", obj, p); !ok {
		t.Fatal("xlated.o did not load")
	}
	ids := regexp.MustCompile(`map\[id:[0-9]+\]`)
	for _, args := range [][]string{
		{"prog", "dump", "xlated", "pinned", p},
		{"prog", "dump", "xlated", "pinned", p, "linum"},
		{"-j", "prog", "dump", "xlated", "pinned", p},
		{"-j", "prog", "dump", "xlated", "pinned", p, "linum"},
	} {
		kout, hout, _ := s.both(args...)
		k, h := ids.ReplaceAllString(kout, "map[id:N]"), ids.ReplaceAllString(hout, "map[id:N]")
		if k != h || !strings.Contains(k, "mix(struct xdp_md * ctx)") {
			t.Errorf("%s:\n bpftool %s\n bpfhost %s", strings.Join(args, " "), k, h)
		}
	}
}
