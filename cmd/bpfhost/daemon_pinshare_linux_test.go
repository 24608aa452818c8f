package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestDaemonPinByNameSharesAgreesWithBpftool: a program array and a map of
// maps pinned by name are reused by a second load of the object, with
// bpftool against the kernel and in the daemon alike: the second load's
// static slot goes into the reused program array (its program is then the
// one jmp[0] holds) while the reused map of maps keeps the first load's
// inner map (the second load's program reads the value the test wrote
// there). The daemon keeps it across a SIGKILL.
func TestDaemonPinByNameSharesAgreesWithBpftool(t *testing.T) {
	s := newPinByNameSideBySide(t)
	obj, _ := filepath.Abs("../../daemon/testdata/pinshare.o")
	jmp, outer := "/sys/fs/bpf/ps_jmp", "/sys/fs/bpf/ps_outer"
	kernel := func(args ...string) string { out, _, _ := s.kernel(args...); return out }
	// value is the ID a reference map holds at key 0, on one side.
	value := func(run func(...string) string, m string) uint32 {
		var e struct {
			Value []string `json:"value"`
		}
		json.Unmarshal([]byte(run("-j", "map", "lookup", "pinned", m, "key", "0", "0", "0", "0")), &e)
		var id uint32
		for i := len(e.Value) - 1; i >= 0; i-- {
			var b uint32
			fmt.Sscanf(e.Value[i], "0x%x", &b)
			id = id<<8 | b
		}
		return id
	}
	progID := func(run func(...string) string, p string) uint32 {
		var pi api.ProgInfo
		json.Unmarshal([]byte(run("-j", "prog", "show", "pinned", p)), &pi)
		return pi.ID
	}
	s.both("prog", "loadall", obj, s.fs+"/p1")
	// The first load's inner map holds 5 (updated by its ID on each side).
	for _, side := range []struct {
		run func(...string) string
		cmd func(...string) (string, string, int)
	}{{kernel, s.kernel}, {s.d.must, func(args ...string) (string, string, int) { return s.d.cli(nil, args...) }}} {
		inner := value(side.run, outer)
		if _, errOut, code := side.cmd("map", "update", "id", fmt.Sprint(inner), "key", "0", "0", "0", "0", "value", "5", "0", "0", "0", "0", "0", "0", "0"); code != 0 {
			t.Fatalf("updating the inner map %d: %s", inner, errOut)
		}
	}
	s.both("prog", "loadall", obj, s.fs+"/p2")
	pkt := filepath.Join(t.TempDir(), "pkt")
	os.WriteFile(pkt, make([]byte, 64), 0o644)
	check := func(when string) {
		t.Helper()
		for _, side := range []struct {
			name string
			run  func(...string) string
		}{{"kernel", kernel}, {"bpfhost", s.d.must}} {
			if got, want := value(side.run, jmp), progID(side.run, s.fs+"/p2/ps_leaf"); got != want {
				t.Errorf("%s, %s: ps_jmp[0] holds %d, want the second load's program %d", when, side.name, got, want)
			}
		}
		kout, hout, _ := s.both("-j", "prog", "run", "pinned", s.fs+"/p2/ps_entry", "data_in", pkt)
		if !strings.Contains(kout, `"retval":3`) || !strings.Contains(hout, `"retval":3`) {
			t.Errorf("%s: the tail call: kernel %s, bpfhost %s; want XDP_TX", when, kout, hout)
		}
	}
	check("after the second load")
	s.d.kill()
	s.d.start()
	check("after SIGKILL")
	s.both("map", "delete", "pinned", jmp, "key", "0", "0", "0", "0")
	kout, hout, _ := s.both("-j", "prog", "run", "pinned", s.fs+"/p2/ps_entry", "data_in", pkt)
	if !strings.Contains(kout, `"retval":5`) || !strings.Contains(hout, `"retval":5`) {
		t.Errorf("the second load's program through the reused map of maps: kernel %s, bpfhost %s; want the first load's inner value 5", kout, hout)
	}
}
