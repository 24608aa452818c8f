package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDaemonRunCtxOutAgreesWithBpftool: "prog run ... ctx_out F" without
// ctx_in runs without a context and leaves ctx_out alone, as bpftool does
// (it allocates the output context only for an input one); with ctx_in the
// context comes back. Before, the daemon ran the program on a zeroed
// context (an XDP packet of no bytes: XDP_ABORTED where bpftool's run
// passed) and printed it. data_size_out and ctx_size_out smaller than the
// output fail the run on both sides (the kernel's ENOSPC); before, the
// daemon ignored them.
func TestDaemonRunCtxOutAgreesWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	p := s.fs + "/c"
	s.both("prog", "load", counterObj, p)
	dir := t.TempDir()
	pkt, ctx := filepath.Join(dir, "pkt"), filepath.Join(dir, "ctx")
	os.WriteFile(pkt, make([]byte, 64), 0o644)
	// xdp_md: data 0, data_end 64, the rest zero.
	os.WriteFile(ctx, []byte{0, 0, 0, 0, 64, 0, 0, 0}, 0o644)
	durations := regexp.MustCompile(`duration(":|: )[0-9]+`)
	for _, args := range [][]string{
		{"prog", "run", "pinned", p, "data_in", pkt, "ctx_out", "-"},
		{"-j", "prog", "run", "pinned", p, "data_in", pkt, "ctx_out", "-"},
		{"-j", "prog", "run", "pinned", p, "data_in", pkt, "ctx_in", ctx, "ctx_out", "-"},
		{"prog", "run", "pinned", p, "data_in", pkt, "data_out", "-", "data_size_out", "64"},
		{"prog", "run", "pinned", p, "data_in", pkt, "data_size_out", "0"},
	} {
		kout, hout, _ := s.both(args...)
		k, h := durations.ReplaceAllString(kout, "duration$1N"), durations.ReplaceAllString(hout, "duration$1N")
		if k != h {
			t.Errorf("%s:\n bpftool %q\n bpfhost %q", strings.Join(args, " "), k, h)
		}
	}
	for _, args := range [][]string{
		{"prog", "run", "pinned", p, "data_in", pkt, "data_size_out", "10"},
		{"prog", "run", "pinned", p, "data_in", pkt, "data_out", "-", "data_size_out", "63"},
		{"prog", "run", "pinned", p, "data_in", pkt, "ctx_in", ctx, "ctx_size_out", "8"},
	} {
		if _, _, ok := s.both(args...); ok {
			t.Errorf("%s: succeeded", strings.Join(args, " "))
		}
	}
}
