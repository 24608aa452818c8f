package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/maps"
)

// dumpCollection has a large array with a few non-zero values, a per-CPU
// array, a hash, an empty program array and a ring buffer with records.
func dumpCollection(t *testing.T) *bpfhost.Collection {
	t.Helper()
	spec := &bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		{Name: "arr", Type: uint32(maps.Array), KeySize: 4, ValueSize: 2, MaxEntries: 1 << 20},
		{Name: "pcpu", Type: uint32(maps.PerCPUArray), KeySize: 4, ValueSize: 4, MaxEntries: 1000},
		{Name: "hash", Type: uint32(maps.Hash), KeySize: 4, ValueSize: 4, MaxEntries: 100},
		{Name: "progs", Type: uint32(maps.ProgramArray), KeySize: 4, ValueSize: 4, MaxEntries: 1 << 20},
		{Name: "rb", Type: uint32(maps.RingBuf), MaxEntries: 1 << 16},
	}}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Slots: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coll.Close() })
	for _, i := range []uint32{3, 70000, 1<<20 - 1, 5, 9} {
		if err := coll.Maps["arr"].Update(i, uint16(i|1), bpfhost.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	// Only slot 2 of index 7 is non-zero.
	if err := coll.Maps["pcpu"].Update(uint32(7), []uint32{0, 0, 42}, bpfhost.UpdateAny); err != nil {
		t.Fatal(err)
	}
	for i := uint32(0); i < 4; i++ {
		if err := coll.Maps["hash"].Update(i, uint32(0), bpfhost.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	rb := coll.Maps["rb"].Unwrap().(*maps.RingBufMap)
	for i := 0; i < 10; i++ {
		if rb.Output([]byte{byte(i)}, 0) != 0 {
			t.Fatal("ring buffer output failed")
		}
	}
	return coll
}

// TestWalkMap checks F6: zero array entries and empty program array slots
// are skipped without building an entry, and entries past the cap are
// counted, not built.
func TestWalkMap(t *testing.T) {
	for _, tc := range []struct {
		name        string
		limit       uint64
		shown       int
		zero, more  uint64
		firstKey    string
		firstValues int
	}{
		{name: "arr", limit: 0, shown: 5, zero: 1<<20 - 5, firstKey: "03000000"},
		{name: "arr", limit: 2, shown: 2, zero: 1<<20 - 5, more: 3, firstKey: "03000000"},
		{name: "pcpu", limit: 10, shown: 1, zero: 999, firstKey: "07000000", firstValues: 3},
		{name: "hash", limit: 3, shown: 3, more: 1}, // zero values of hashes are entries
		{name: "progs", limit: 10},
		{name: "rb", limit: 4, shown: 4, more: 6},
	} {
		coll := dumpCollection(t)
		var got []mapEntry
		om, err := walkMap(coll.Maps[tc.name], tc.limit, func(e mapEntry) error {
			got = append(got, e)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != tc.shown || om.Zero != tc.zero || om.More != tc.more {
			t.Errorf("%s, limit %d: %d shown, %+v; want %d shown, zero %d, more %d", tc.name, tc.limit, len(got), om, tc.shown, tc.zero, tc.more)
			continue
		}
		if tc.firstKey != "" && (got[0].Key != tc.firstKey || len(got[0].Values) != tc.firstValues) {
			t.Errorf("%s: first entry %+v, want key %s with %d per-slot values", tc.name, got[0], tc.firstKey, tc.firstValues)
		}
	}
}

// TestWriteRunJSONStreams checks the --json shape: entries shown per map and
// what was left out in "maps_omitted".
func TestWriteRunJSONStreams(t *testing.T) {
	coll := dumpCollection(t)
	var out bytes.Buffer
	res := runOutput{Program: "p", Type: "xdp", Engine: "jit", Runs: []runResult{{Retval: 2}}, Printk: []string{"hi"}}
	if err := writeRunJSON(&out, res, coll, 3); err != nil {
		t.Fatal(err)
	}
	var back runOutput
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if back.Program != "p" || len(back.Runs) != 1 || len(back.Printk) != 1 {
		t.Errorf("header: %+v", back)
	}
	if len(back.Maps["arr"]) != 3 || back.MapsOmitted["arr"] != (mapOmitted{Zero: 1<<20 - 5, More: 2}) {
		t.Errorf("arr: %v, omitted %+v", back.Maps["arr"], back.MapsOmitted["arr"])
	}
	if len(back.Maps["progs"]) != 0 || back.Maps["progs"] == nil || len(back.Maps["rb"]) != 3 || back.MapsOmitted["rb"].More != 7 {
		t.Errorf("progs %v, rb %v omitted %+v", back.Maps["progs"], back.Maps["rb"], back.MapsOmitted["rb"])
	}
	// The table says the same.
	coll = dumpCollection(t)
	var table bytes.Buffer
	if err := printMaps(&table, coll, 3); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"map arr:\n  03000000  0300\n", "  1048576 entries (1048571 all zero, not shown)", "... 2 more (--max-entries 3)", "map progs:\n  0 entries\n",
		"map pcpu:\n  07000000  00000000 00000000 2a000000\n"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

func TestEntryValue(t *testing.T) {
	many := make([]string, 64)
	for i := range many {
		many[i] = "0000"
	}
	many[5] = "0100"
	for _, tc := range []struct {
		e    mapEntry
		want string
	}{
		{mapEntry{Value: "ab"}, "ab"},
		{mapEntry{Values: []string{"00", "01"}}, "00 01"},
		{mapEntry{Values: many}, "slot5=0100 (63 of 64 slots zero)"},
	} {
		if got := tableValue(tc.e); got != tc.want {
			t.Errorf("tableValue(%v) = %q, want %q", tc.e, got, tc.want)
		}
	}
}
