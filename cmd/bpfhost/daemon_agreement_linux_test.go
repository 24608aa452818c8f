package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
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
