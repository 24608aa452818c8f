package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestDaemonShareAcrossObjectsAgreesWithBpftool: "prog loadall OBJ DIR map
// name NAME pinned PIN" with a program array, an array of maps and global
// data of another object (daemon/testdata/share_a.c, share_b.c), with
// bpftool against the kernel and in the daemon alike: tail calls cross the
// objects both ways (B's programs through A's array, A's program into B's
// program stored there), the reusing object's static slots go into the
// reused program array but not into the reused map of maps, a reused
// frozen .rodata gives its own constants and a reused .bss is shared; the
// replacements that do not fit fail on both sides (inner map template,
// value sizes, a program array of another program type, a map of another
// type, a data section by its section name). The daemon keeps it all
// across a SIGKILL.
func TestDaemonShareAcrossObjectsAgreesWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	obj := func(name string) string {
		p, _ := filepath.Abs("../../daemon/testdata/" + name)
		return p
	}
	a, b := obj("share_a.o"), obj("share_b.o")
	fs := s.fs
	amaps := fs + "/amaps"
	s.both("prog", "loadall", a, fs+"/a", "pinmaps", amaps)
	s.both("prog", "loadall", b, fs+"/b", "map", "name", "jmp", "pinned", amaps+"/jmp", "map", "name", "outer", "pinned", amaps+"/outer")

	// pkts[i] is a packet whose first byte, i, is the slot entry_b
	// tail-calls (and the slot of outer it reads without a target).
	var pkts []string
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		p := filepath.Join(dir, fmt.Sprint("pkt", i))
		if err := os.WriteFile(p, append([]byte{byte(i)}, make([]byte, 63)...), 0o644); err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	retval := func(out string) int {
		var r struct {
			Retval int `json:"retval"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("prog run: %q: %v", out, err)
		}
		return r.Retval
	}
	// runs gives the return values of the programs on every packet, on
	// each side; they must agree.
	runs := func(progs ...string) []int {
		t.Helper()
		var hs []int
		for _, p := range progs {
			for _, pkt := range pkts {
				kout, hout, ok := s.both("-j", "prog", "run", "pinned", fs+p, "data_in", pkt)
				if !ok {
					continue
				}
				k, h := retval(kout), retval(hout)
				if k != h {
					t.Errorf("%s on packet %s: kernel %d, bpfhost %d", p, filepath.Base(pkt), k, h)
				}
				hs = append(hs, h)
			}
		}
		return hs
	}
	// slots lists the keys of a reference map, and which program a
	// program array's slot holds, by pin ("" if none of progs), on each
	// side.
	slots := func(m string, progs ...string) {
		t.Helper()
		kout, hout, _ := s.both("-j", "map", "dump", "pinned", m)
		var got [2][]string
		for side, out := range []string{kout, hout} {
			ids := map[string]string{}
			for _, p := range progs {
				var pi api.ProgInfo
				show := s.d.must
				if side == 0 {
					show = func(args ...string) string { o, _, _ := s.kernel(args...); return o }
				}
				json.Unmarshal([]byte(show("-j", "prog", "show", "pinned", fs+p)), &pi)
				ids[fmt.Sprintf(`"0x%02x"`, pi.ID&0xff)+fmt.Sprintf(`,"0x%02x"`, pi.ID>>8&0xff)] = p
			}
			var entries []struct {
				Key   []string `json:"key"`
				Value []string `json:"value"`
			}
			if err := json.Unmarshal([]byte(out), &entries); err != nil {
				t.Fatalf("map dump %s: %q: %v", m, out, err)
			}
			for _, e := range entries {
				v, _ := json.Marshal(e.Value[:2])
				got[side] = append(got[side], e.Key[0]+"="+ids[strings.Trim(string(v), "[]")])
			}
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Errorf("%s holds: kernel %v, bpfhost %v", m, got[0], got[1])
		}
	}
	// libbpf binds .rodata to every program (BPF_PROG_BIND_MAP), so a
	// program that reads no map lists it too.
	for _, p := range []string{"/a/leaf_a", "/b/leaf_b"} {
		kout, hout, _ := s.both("-j", "prog", "show", "pinned", fs+p)
		var k, h api.ProgInfo
		json.Unmarshal([]byte(kout), &k)
		json.Unmarshal([]byte(hout), &h)
		if len(k.MapIDs) != 1 || len(h.MapIDs) != 1 {
			t.Errorf("%s uses maps: kernel %v, bpfhost %v; want the .rodata map", p, k.MapIDs, h.MapIDs)
		}
	}
	entries := []string{"/a/entry_a", "/b/entry_b"}
	// jmp: A's leaf at 0 (A's static slot) and B's at 2 (B's, into the
	// reused array); outer: A's inner map at 0 only (B's static slot 1
	// is not filled in a reused map of maps).
	slots(amaps+"/jmp", "/a/leaf_a", "/b/leaf_b")
	slots(amaps + "/outer")
	runs(entries...)
	// A's program tail-calls B's leaf; B's finds A's inner map.
	s.both("map", "update", "pinned", amaps+"/jmp", "key", "1", "0", "0", "0", "value", "pinned", fs+"/b/leaf_b")
	s.both("map", "delete", "pinned", amaps+"/jmp", "key", "0", "0", "0", "0")
	s.both("map", "update", "pinned", amaps+"/inner", "key", "0", "0", "0", "0", "value", "5", "0", "0", "0", "0", "0", "0", "0")
	slots(amaps+"/jmp", "/b/leaf_b")
	runs(entries...)

	// Global data: B's .rodata and .bss are A's (by libbpf's names);
	// pinmaps pins the reused maps under their own names, as libbpf.
	s.both("prog", "loadall", b, fs+"/b2", "map", "name", "share_b.rodata", "pinned", amaps+"/share_a_rodata",
		"map", "name", "share_b.bss", "pinned", amaps+"/share_a_bss", "map", "name", "jmp", "pinned", amaps+"/jmp",
		"map", "name", "outer", "pinned", amaps+"/outer", "pinmaps", fs+"/b2maps")
	ents, err := os.ReadDir(fs + "/b2maps")
	if err != nil || len(ents) != 5 {
		t.Fatalf("bpftool's pinmaps: %v, %v", ents, err)
	}
	for _, e := range ents {
		kout, hout, _ := s.both("-j", "map", "show", "pinned", fs+"/b2maps/"+e.Name())
		var k, h api.MapInfo
		json.Unmarshal([]byte(kout), &k)
		json.Unmarshal([]byte(hout), &h)
		if k.Name != h.Name {
			t.Errorf("pinmaps %s: kernel's map %q, bpfhost's %q", e.Name(), k.Name, h.Name)
		}
	}
	slots(amaps+"/jmp", "/b/leaf_b", "/b2/leaf_b")
	entries = append(entries, "/b2/entry_b")
	before := runs(entries...)
	s.agree("map", "dump", "pinned", amaps+"/share_a_bss")

	// What does not fit fails on both sides.
	create := func(name string, args ...string) string {
		s.both(append([]string{"map", "create", fs + "/" + name}, args...)...)
		return fs + "/" + name
	}
	hin := create("hin", "type", "hash", "key", "4", "value", "4", "entries", "4", "name", "hin")
	hin8 := create("hin8", "type", "hash", "key", "4", "value", "8", "entries", "4", "name", "hin8")
	aom4 := create("aom4", "type", "array_of_maps", "key", "4", "value", "4", "entries", "2", "name", "aom4", "inner_map", "pinned", hin)
	aom8 := create("aom8", "type", "array_of_maps", "key", "4", "value", "4", "entries", "2", "name", "aom8", "inner_map", "pinned", hin8)
	arr := create("arr", "type", "array", "key", "4", "value", "4", "entries", "4", "name", "arr")
	jmp2 := fs + "/b2/leaf_b" // what A's jmp[2] holds
	ro4 := create("ro4", "type", "array", "key", "4", "value", "4", "entries", "1", "name", "ro4")
	for i, c := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"map", "name", "outer", "pinned", aom4}, false}, // 8-byte read from 4-byte inner values
		{[]string{"map", "name", "outer", "pinned", aom8}, true},
		{[]string{"map", "name", "jmp", "pinned", arr}, false},
		{[]string{"map", "name", "share_b.rodata", "pinned", amaps + "/share_a_bss"}, true}, // not constants then
		{[]string{"map", "name", "share_b.bss", "pinned", amaps + "/share_a_rodata"}, false},
		{[]string{"map", "name", "share_b.rodata", "pinned", ro4}, false},
		{[]string{"map", "name", "outer", "pinned", amaps + "/jmp"}, false},
		{[]string{"map", "name", "jmp", "pinned", amaps + "/outer"}, false},
		{[]string{"map", "name", "inner_b", "pinned", amaps + "/outer"}, false}, // B's outer[1] cannot hold it
		{[]string{"map", "name", ".rodata", "pinned", amaps + "/share_a_rodata"}, false},
		// By index in libbpf's order: inner_b, outer, jmp, .rodata, .bss.
		{[]string{"map", "idx", "2", "pinned", amaps + "/jmp", "map", "idx", "3", "pinned", amaps + "/share_a_rodata"}, true},
		{[]string{"map", "idx", "2", "pinned", amaps + "/outer"}, false},
	} {
		dir := fmt.Sprintf("%s/c%d", fs, i)
		ok := false
		if _, _, ok = s.both(append([]string{"prog", "loadall", b, dir}, c.args...)...); ok != c.ok {
			t.Errorf("%v: loaded %v, want %v", c.args, ok, c.ok)
		}
		if ok && slices.Contains(c.args, amaps+"/jmp") {
			jmp2 = dir + "/leaf_b" // its static slot 2 is A's jmp's now
		}
	}
	// A hash of maps whose inner map is a pinned map, in place of B's
	// array of maps: B's program reads the pinned map (9, plus its k).
	hom := create("hom", "type", "hash_of_maps", "key", "4", "value", "4", "entries", "4", "name", "hom", "inner_map", "pinned", hin8)
	s.both("map", "update", "pinned", hin8, "key", "0", "0", "0", "0", "value", "9", "0", "0", "0", "0", "0", "0", "0")
	s.both("map", "update", "pinned", hom, "key", "0", "0", "0", "0", "value", "pinned", hin8)
	s.both("prog", "loadall", b, fs+"/h", "map", "name", "outer", "pinned", hom)
	// (Packet 0 only: B's own program array is not pinned, and Linux
	// empties it when bpftool exits; the daemon keeps a map's entries
	// while it lives, decision 0017.)
	kout, hout, _ := s.both("-j", "prog", "run", "pinned", fs+"/h/entry_b", "data_in", pkts[0])
	if k, h := retval(kout), retval(hout); k != 109 || h != 109 {
		t.Errorf("B through a reused hash of maps: kernel %d, bpfhost %d; want 109", k, h)
	}

	// share_d's program array comes before its map of maps: the load
	// fails filling the map of maps, after A's jmp took share_d's slot 1
	// (in the daemon; libbpf fails before). A's jmp keeps its slots.
	if _, _, ok := s.both("prog", "loadall", obj("share_d.o"), fs+"/d", "map", "name", "jmp", "pinned", amaps+"/jmp",
		"map", "name", "inner_d", "pinned", amaps+"/outer"); ok {
		t.Error("share_d.o loaded with a map of maps as its inner map")
	}
	// What the failed loads left in A's jmp: nothing of theirs.
	slots(amaps+"/jmp", "/b/leaf_b", strings.TrimPrefix(jmp2, fs))
	runs(entries...)

	// A program array keeps one program type.
	if _, _, ok := s.both("prog", "load", obj("share_c.o"), fs+"/c", "map", "name", "jmp", "pinned", amaps+"/jmp"); ok {
		t.Error("a tc program loaded with an array of XDP programs")
	}

	// A program array's owner (map show's owner_prog_type): the first
	// program stored in it, or one of another object that uses it.
	pa := create("pa", "type", "prog_array", "key", "4", "value", "4", "entries", "4", "name", "pa")
	s.agree("map", "show", "pinned", pa)
	s.both("map", "update", "pinned", pa, "key", "0", "0", "0", "0", "value", "pinned", fs+"/b/leaf_b")
	s.agree("map", "show", "pinned", pa)
	pc := create("pc", "type", "prog_array", "key", "4", "value", "4", "entries", "4", "name", "pc")
	s.both("prog", "load", obj("share_c.o"), fs+"/tc", "map", "name", "jmp", "pinned", pc)
	s.agree("map", "show", "pinned", pc)

	// The daemon keeps it: the same slots, the same runs.
	s.d.kill()
	s.d.start()
	var hs []int
	for _, p := range entries {
		for _, pkt := range pkts {
			hs = append(hs, retval(s.d.must("-j", "prog", "run", "pinned", fs+p, "data_in", pkt)))
		}
	}
	if !slices.Equal(hs, before) {
		t.Errorf("runs after SIGKILL %v, before %v", hs, before)
	}
	slots(amaps+"/jmp", "/b/leaf_b", strings.TrimPrefix(jmp2, fs))
	var leafs []uint32
	for _, p := range []string{fs + "/b/leaf_b", jmp2} {
		var pi api.ProgInfo
		json.Unmarshal([]byte(s.d.must("-j", "prog", "show", "pinned", p)), &pi)
		leafs = append(leafs, pi.ID)
	}
	for i, id := range leafs {
		key := fmt.Sprint(i + 1)
		if out := s.d.must("-j", "map", "lookup", "pinned", amaps+"/jmp", "key", key, "0", "0", "0"); !strings.Contains(out, fmt.Sprintf(`"value":["0x%02x",`, id)) {
			t.Errorf("after SIGKILL jmp[%s] is %s, want program %d", key, out, id)
		}
	}
}

// TestDaemonMapsOnlyAgreesWithBpftool: "prog loadall" of an object with
// maps and no programs loads its maps (pinned with pinmaps) and succeeds,
// "prog load" of it fails, with bpftool against the kernel and in the
// daemon alike; the daemon keeps the maps across a SIGKILL. Before, the
// daemon refused the object ("object has no programs").
func TestDaemonMapsOnlyAgreesWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	obj, _ := filepath.Abs("../../daemon/testdata/mapsonly.o")
	dir := s.fs + "/mo"
	if _, _, ok := s.both("prog", "loadall", obj, s.fs+"/p", "pinmaps", dir); !ok {
		t.Fatal("loadall of a maps-only object failed")
	}
	s.both("prog", "loadall", obj, s.fs+"/p2")
	if _, _, ok := s.both("prog", "load", obj, s.fs+"/p3"); ok {
		t.Error("prog load of an object without programs succeeded")
	}
	for _, m := range []string{"shared_counts", "mapsonly_data"} {
		s.agree("map", "show", "pinned", dir+"/"+m)
	}
	s.agree("map", "update", "pinned", dir+"/shared_counts", "key", "1", "0", "0", "0", "value", "9", "0", "0", "0", "0", "0", "0", "0")
	s.d.kill()
	s.d.start()
	if out := s.d.must("-j", "map", "lookup", "pinned", dir+"/shared_counts", "key", "1", "0", "0", "0"); !strings.Contains(out, `"value":["0x09"`) {
		t.Errorf("after SIGKILL: %s", out)
	}
}

// TestDaemonIDOrderAgreesWithBpftool: the maps and programs of one load
// get IDs in libbpf's order, as Linux gives them (maps of .maps by their
// place, then the data sections in the ELF's order; programs by section,
// then offset), so "map show" and "prog show" list them as bpftool does;
// a program's map_ids are in the order of first use, as Linux's. Before,
// the daemon numbered them by name and sorted map_ids.
func TestDaemonIDOrderAgreesWithBpftool(t *testing.T) {
	s := newSideBySide(t)
	s.d.start()
	for i, obj := range []string{"../../daemon/testdata/share_a.o", "../../examples/config.o", "../../examples/dispatcher.o"} {
		abs, _ := filepath.Abs(obj)
		progs, maps := fmt.Sprintf("%s/p%d", s.fs, i), fmt.Sprintf("%s/m%d", s.fs, i)
		if _, _, ok := s.both("prog", "loadall", abs, progs, "pinmaps", maps); !ok {
			t.Fatalf("%s did not load", obj)
		}
		for _, c := range []struct{ dir, kind string }{{progs, "prog"}, {maps, "map"}} {
			ents, err := os.ReadDir(c.dir)
			if err != nil {
				t.Fatal(err)
			}
			// byID lists the pins of the directory by their objects'
			// IDs on one side.
			byID := func(run func(...string) string) []string {
				type pin struct {
					name string
					id   uint32
				}
				var pins []pin
				for _, e := range ents {
					var o struct {
						ID uint32 `json:"id"`
					}
					json.Unmarshal([]byte(run("-j", c.kind, "show", "pinned", c.dir+"/"+e.Name())), &o)
					pins = append(pins, pin{e.Name(), o.ID})
				}
				slices.SortFunc(pins, func(a, b pin) int { return int(a.id) - int(b.id) })
				var names []string
				for _, p := range pins {
					names = append(names, p.name)
				}
				return names
			}
			kernel := func(args ...string) string { out, _, _ := s.kernel(args...); return out }
			if k, h := byID(kernel), byID(s.d.must); !slices.Equal(k, h) {
				t.Errorf("%s: %ss by ID: kernel %v, bpfhost %v", obj, c.kind, k, h)
			}
			if c.kind != "prog" {
				continue
			}
			// A program's map_ids: in the order of first use, then
			// the bound .rodata, as Linux lists them.
			for _, e := range ents {
				mapNames := func(run func(...string) string) []string {
					var pi api.ProgInfo
					json.Unmarshal([]byte(run("-j", "prog", "show", "pinned", c.dir+"/"+e.Name())), &pi)
					var names []string
					for _, id := range pi.MapIDs {
						var mi api.MapInfo
						json.Unmarshal([]byte(run("-j", "map", "show", "id", fmt.Sprint(id))), &mi)
						names = append(names, mi.Name)
					}
					return names
				}
				if k, h := mapNames(kernel), mapNames(s.d.must); !slices.Equal(k, h) {
					t.Errorf("%s: %s's map_ids: kernel %v, bpfhost %v", obj, e.Name(), k, h)
				}
			}
		}
	}
}
