package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestDaemonDumpByNameAgreesWithBpftool: "map dump name NAME" and "prog
// dump xlated name NAME" where two objects have that name dump both, as
// bpftool does: maps without BTF types each under its header line, with
// -j and -p as a list of headers with their entries; maps with BTF types
// as a pretty list of headers with their formatted entries; programs each
// under its header. Commands that take one object fail on both sides.
// Before, the daemon refused the name. The kernel's names are the whole
// system's (other tests may load counter.o meanwhile), so the created
// maps have names of this test alone, and the kernel's dumps of the
// object's maps and programs are compared only on the test's own IDs.
func TestDaemonDumpByNameAgreesWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	zz := fmt.Sprintf("zz%d", os.Getpid()%100000)
	for i, p := range []string{"/n1", "/n2"} {
		s.both("prog", "load", counterObj, s.fs+p, "pinmaps", s.fs+p+"m")
		s.both("map", "update", "pinned", s.fs+p+"m/counts", "key", fmt.Sprint(i+1), "0", "0", "0", "value", "1", "0", "0", "0", "0", "0", "0", "0")
		s.both("map", "create", s.fs+p+"z", "type", "hash", "key", "4", "value", "4", "entries", "4", "name", zz)
	}
	s.both("map", "update", "pinned", s.fs+"/n1z", "key", "1", "0", "0", "0", "value", "2", "0", "0", "0")
	ids := regexp.MustCompile(`(?m)("id": ?)[0-9]+|^[0-9]+(:)`)
	norm := func(out string) string { return ids.ReplaceAllString(out, "${1}N$2") }
	for _, args := range [][]string{
		{"map", "dump", "name", zz},
		{"-j", "map", "dump", "name", zz},
		{"-p", "map", "dump", "name", zz},
	} {
		kout, hout, _ := s.both(args...)
		if k, h := norm(kout), norm(hout); k != h {
			t.Errorf("%s:\n bpftool %s\n bpfhost %s", strings.Join(args, " "), k, h)
		}
	}
	for _, args := range [][]string{
		{"map", "lookup", "name", zz, "key", "1", "0", "0", "0"},
		{"prog", "run", "name", "count_packets", "data_in", "/dev/null"},
	} {
		if _, _, ok := s.both(args...); ok {
			t.Errorf("%s: succeeded with two objects of the name", strings.Join(args, " "))
		}
	}
	// ours lists a side's IDs of the pinned objects.
	ours := func(run func(...string) string, kind string, pins ...string) map[float64]bool {
		out := map[float64]bool{}
		for _, p := range pins {
			var o struct {
				ID uint32 `json:"id"`
			}
			json.Unmarshal([]byte(run("-j", kind, "show", "pinned", s.fs+p)), &o)
			out[float64(o.ID)] = true
		}
		return out
	}
	kernel := func(args ...string) string { out, _, _ := s.kernel(args...); return out }
	// mine decodes a dump of several and keeps the test's own, with
	// their IDs and instructions left out (each side has its own).
	mine := func(out string, own map[float64]bool) []map[string]any {
		var all []map[string]any
		if err := json.Unmarshal([]byte(out), &all); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		var keep []map[string]any
		for _, o := range all {
			if own[o["id"].(float64)] {
				delete(o, "id")
				if _, ok := o["insns"].([]any); ok {
					o["insns"] = "present"
				}
				keep = append(keep, o)
			}
		}
		return keep
	}
	for _, c := range []struct {
		args []string
		kind string
		pins []string
	}{
		{[]string{"map", "dump", "name", "counts"}, "map", []string{"/n1m/counts", "/n2m/counts"}},
		{[]string{"-j", "map", "dump", "name", "counts"}, "map", []string{"/n1m/counts", "/n2m/counts"}},
		{[]string{"-j", "prog", "dump", "xlated", "name", "count_packets"}, "prog", []string{"/n1", "/n2"}},
	} {
		kout, hout, _ := s.both(c.args...)
		k, h := mine(kout, ours(kernel, c.kind, c.pins...)), mine(hout, ours(s.d.must, c.kind, c.pins...))
		if len(k) != 2 || !reflect.DeepEqual(k, h) {
			t.Errorf("%s:\n bpftool %v\n bpfhost %v", strings.Join(c.args, " "), k, h)
		}
	}
	// For people: each program under its header line.
	hout := s.d.must("prog", "dump", "xlated", "name", "count_packets")
	for _, p := range []string{"/n1", "/n2"} {
		var pi api.ProgInfo
		json.Unmarshal([]byte(s.d.must("-j", "prog", "show", "pinned", s.fs+p)), &pi)
		if !strings.Contains(hout, fmt.Sprintf("%d: xdp  name count_packets  tag %s  gpl\n", pi.ID, pi.Tag)) {
			t.Errorf("no header of program %d:\n%s", pi.ID, hout)
		}
	}
}
