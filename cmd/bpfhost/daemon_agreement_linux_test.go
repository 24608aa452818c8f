package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// volatile are the fields of bpftool's JSON that differ between any two
// loads (IDs, times) or that only Linux has (BTF, JIT and memlock sizes,
// its rewritten instructions); the agreement test leaves them out.
var volatile = map[string]bool{
	"id": true, "map_ids": true, "loaded_at": true, "btf_id": true, "bytes_memlock": true,
	"bytes_jited": true, "bytes_xlated": true, "jited": true, "duration": true,
	"run_time_ns": true, "run_cnt": true, "formatted": true, "pids": true,
	"memory_file": true, // bpfhost's map memory files (docs/map-memory.md)
}

// normalize parses bpftool JSON, drops the volatile fields and sorts
// arrays of objects (hash maps dump in their own order).
func normalize(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("JSON %q: %v", s, err)
	}
	return clean(v)
}

func clean(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k := range x {
			if volatile[k] {
				delete(x, k)
			} else {
				x[k] = clean(x[k])
			}
		}
	case []any:
		objects := len(x) > 0
		for i := range x {
			x[i] = clean(x[i])
			_, isObj := x[i].(map[string]any)
			objects = objects && isObj
		}
		if objects {
			sort.Slice(x, func(i, j int) bool {
				a, _ := json.Marshal(x[i])
				b, _ := json.Marshal(x[j])
				return string(a) < string(b)
			})
		}
	}
	return v
}

// TestDaemonAgreesWithBpftool runs one script of bpftool commands against
// the kernel (bpftool, pins in a bpffs) and against the daemon (bpfhost,
// the same pin paths): the JSON is the same apart from IDs, times and what
// only Linux has.
func TestDaemonAgreesWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	bpftool, d, fs := s.bpftool, s.d, s.fs
	d.start()
	pkt := filepath.Join(t.TempDir(), "pkt")
	os.WriteFile(pkt, append([]byte{3}, make([]byte, 63)...), 0o644)
	obj, _ := filepath.Abs(counterObj)
	counts, total, prog := fs+"/maps/counts", fs+"/maps/total", fs+"/counter"
	script := [][]string{
		{"prog", "load", obj, prog, "pinmaps", fs + "/maps"},
		{"map", "update", "pinned", counts, "key", "1", "0", "0", "0", "value", "5", "0", "0", "0", "0", "0", "0", "0"},
		{"map", "update", "pinned", counts, "key", "hex", "02", "00", "00", "00", "value", "hex", "07", "00", "00", "00", "00", "00", "00", "ff", "noexist"},
		{"map", "lookup", "pinned", counts, "key", "1", "0", "0", "0"},
		{"map", "getnext", "pinned", total},
		{"map", "getnext", "pinned", total, "key", "0", "0", "0", "0"},
		{"map", "dump", "pinned", counts},
		{"map", "show", "pinned", counts},
		{"map", "show", "pinned", total},
		{"prog", "show", "pinned", prog},
		{"prog", "run", "pinned", prog, "data_in", pkt, "repeat", "2"},
		{"map", "lookup", "pinned", total, "key", "0", "0", "0", "0"},
		{"map", "lookup", "pinned", counts, "key", "3", "0", "0", "0"},
		{"map", "delete", "pinned", counts, "key", "1", "0", "0", "0"},
		{"map", "dump", "pinned", counts},
		{"map", "freeze", "pinned", total},
		{"map", "show", "pinned", total},
		{"map", "update", "pinned", total, "key", "0", "0", "0", "0", "value", "1", "0", "0", "0", "0", "0", "0", "0"},
		{"map", "freeze", "pinned", total},
	}
	for _, args := range script {
		kargs := append([]string{"-j"}, args...)
		kout, kerr := exec.Command(bpftool, kargs...).Output()
		hout, herr, code := d.cli(nil, kargs...)
		if kerr != nil || code != 0 {
			// Both fail (a key past the end, a missing key), or the
			// test does.
			if kerr == nil || code == 0 {
				t.Errorf("%s: bpftool: %v %s; bpfhost: exit %d %s %s", strings.Join(kargs, " "), kerr, kout, code, hout, herr)
			}
			continue
		}
		if k, h := normalize(t, string(kout)), normalize(t, hout); !reflect.DeepEqual(k, h) {
			t.Errorf("%s:\n kernel  %s\n bpfhost %s", strings.Join(kargs, " "), kout, hout)
		}
	}
}

// TestDaemonRefMapsAgreeWithBpftool sets program array and map of maps
// entries with bpftool's grammar ("value pinned PROG", "value pinned MAP")
// against the kernel and the daemon: the same commands succeed and fail,
// lookups name the same objects (by their IDs on each side), and the rest
// of the JSON agrees.
func TestDaemonRefMapsAgreeWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	bpftool, d, fs := s.bpftool, s.d, s.fs
	d.start()
	obj, _ := filepath.Abs("../../daemon/testdata/refs.o")
	jmp, outer := fs+"/rm/jmp", fs+"/rm/outer"
	kernel := func(args ...string) (string, error) {
		out, err := exec.Command(bpftool, append([]string{"-j"}, args...)...).Output()
		return string(out), err
	}
	host := func(args ...string) (string, error) {
		out, errOut, code := d.cli(nil, append([]string{"-j"}, args...)...)
		if code != 0 {
			return out, &exec.ExitError{Stderr: []byte(errOut)}
		}
		return out, nil
	}
	// named resolves the ID a lookup's value holds to the name of the
	// program or map, with the same tool.
	named := func(tool func(...string) (string, error), kind, out string) string {
		var e struct {
			Value []string `json:"value"`
		}
		if err := json.Unmarshal([]byte(out), &e); err != nil || len(e.Value) != 4 {
			t.Fatalf("lookup %q: %v", out, err)
		}
		var id uint32
		for i, b := range e.Value {
			var x uint32
			if _, err := fmt.Sscanf(b, "0x%x", &x); err != nil {
				t.Fatalf("value byte %q", b)
			}
			id |= x << (8 * i)
		}
		show, err := tool(kind, "show", "id", fmt.Sprint(id))
		if err != nil {
			t.Fatalf("%s show id %d: %v", kind, id, err)
		}
		var o struct {
			Name string `json:"name"`
		}
		json.Unmarshal([]byte(show), &o)
		return o.Name
	}
	script := []struct {
		args   []string
		lookup string // "prog" or "map": compare what the value names
	}{
		{args: []string{"prog", "loadall", obj, fs + "/r", "pinmaps", fs + "/rm"}},
		{args: []string{"map", "show", "pinned", jmp}},
		{args: []string{"map", "show", "pinned", outer}},
		{args: []string{"map", "update", "pinned", jmp, "key", "0", "0", "0", "0", "value", "pinned", fs + "/r/to_tx"}},
		{args: []string{"map", "update", "pinned", jmp, "key", "2", "0", "0", "0", "value", "pinned", fs + "/r/to_drop"}},
		{args: []string{"map", "lookup", "pinned", jmp, "key", "0", "0", "0", "0"}, lookup: "prog"},
		{args: []string{"map", "lookup", "pinned", jmp, "key", "2", "0", "0", "0"}, lookup: "prog"},
		{args: []string{"map", "lookup", "pinned", jmp, "key", "1", "0", "0", "0"}},
		{args: []string{"map", "update", "pinned", jmp, "key", "9", "0", "0", "0", "value", "pinned", fs + "/r/to_tx"}},
		{args: []string{"map", "delete", "pinned", jmp, "key", "2", "0", "0", "0"}},
		{args: []string{"map", "lookup", "pinned", jmp, "key", "2", "0", "0", "0"}},
		{args: []string{"map", "update", "pinned", outer, "key", "1", "0", "0", "0", "value", "pinned", fs + "/rm/inner"}},
		{args: []string{"map", "lookup", "pinned", outer, "key", "1", "0", "0", "0"}, lookup: "map"},
		{args: []string{"map", "update", "pinned", outer, "key", "0", "0", "0", "0", "value", "pinned", jmp}},
		{args: []string{"map", "show", "pinned", fs + "/rm/houter"}},
		{args: []string{"map", "update", "pinned", fs + "/rm/houter", "key", "1", "0", "0", "0", "0", "0", "0", "0", "value", "pinned", fs + "/rm/inner"}},
		{args: []string{"map", "lookup", "pinned", fs + "/rm/houter", "key", "1", "0", "0", "0", "0", "0", "0", "0"}, lookup: "map"},
		{args: []string{"map", "update", "pinned", fs + "/rm/houter", "key", "1", "0", "0", "0", "0", "0", "0", "0", "value", "pinned", fs + "/rm/inner", "noexist"}},
		{args: []string{"map", "delete", "pinned", fs + "/rm/houter", "key", "1", "0", "0", "0", "0", "0", "0", "0"}},
		{args: []string{"map", "lookup", "pinned", fs + "/rm/houter", "key", "1", "0", "0", "0", "0", "0", "0", "0"}},
	}
	for _, s := range script {
		kout, kerr := kernel(s.args...)
		hout, herr := host(s.args...)
		cmd := strings.Join(s.args, " ")
		if (kerr == nil) != (herr == nil) {
			t.Errorf("%s: bpftool: %v %s; bpfhost: %v %s", cmd, kerr, kout, herr, hout)
			continue
		}
		if kerr != nil {
			continue
		}
		if s.lookup != "" {
			if k, h := named(kernel, s.lookup, kout), named(host, s.lookup, hout); k != h {
				t.Errorf("%s: the kernel's entry names %q, bpfhost's %q", cmd, k, h)
			}
			continue
		}
		if k, h := normalize(t, kout), normalize(t, hout); !reflect.DeepEqual(k, h) {
			t.Errorf("%s:\n kernel  %s\n bpfhost %s", cmd, kout, hout)
		}
	}
}
