package object

import (
	"bytes"
	"reflect"
	"testing"
)

func TestMaps(t *testing.T) {
	// Linux map type numbers.
	const (
		hash        = 1
		array       = 2
		progArray   = 3
		percpuArray = 6
		lpmTrie     = 11
		arrayOfMaps = 12
		ringbuf     = 27
		noPrealloc  = 1 // BPF_F_NO_PREALLOC
	)
	innerTemplate := &MapSpec{Name: "outer_inner", Type: array, KeySize: 4, ValueSize: 4, MaxEntries: 2}
	want := []*MapSpec{
		{Name: ".bss", Type: array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Data: make([]byte, 8)},
		{Name: ".data", Type: array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0}},
		{Name: ".data.custom", Type: array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Data: []byte{7, 0, 0, 0}},
		{Name: ".rodata", Type: array, KeySize: 4, ValueSize: 5, MaxEntries: 1, Flags: FlagReadOnlyProg, Data: []byte{80, 0, 0, 0, 2}},
		{Name: ".rodata.str1.1", Type: array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagReadOnlyProg, Data: []byte("bpfhost\x00")},
		{Name: "counts", Type: hash, KeySize: 4, ValueSize: 8, MaxEntries: 1024},
		{Name: "events", Type: ringbuf, MaxEntries: 4096},
		{Name: "inner_a", Type: array, KeySize: 4, ValueSize: 4, MaxEntries: 2},
		{Name: "inner_b", Type: array, KeySize: 4, ValueSize: 4, MaxEntries: 2},
		{Name: "jmp_table", Type: progArray, KeySize: 4, ValueSize: 4, MaxEntries: 3,
			Contents: []MapKV{{0, "tail_one"}, {1, "tail_two"}}},
		{Name: "legacy_map", Type: array, KeySize: 4, ValueSize: 8, MaxEntries: 16},
		{Name: "outer", Type: arrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4,
			InnerMap: innerTemplate, Contents: []MapKV{{0, "inner_a"}, {2, "inner_b"}}},
		{Name: "per_cpu", Type: percpuArray, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Name: "routes", Type: lpmTrie, KeySize: 8, ValueSize: 4, MaxEntries: 255, Flags: noPrealloc},
	}
	for _, obj := range []string{"prog.o", "prog-v4.o"} {
		spec := mustLoad(t, obj)
		if len(spec.Maps) != len(want) {
			var names []string
			for _, m := range spec.Maps {
				names = append(names, m.Name)
			}
			t.Fatalf("%s: maps %v, want %d", obj, names, len(want))
		}
		for i, w := range want {
			got := spec.Maps[i]
			if !reflect.DeepEqual(got, w) {
				t.Errorf("%s: map %d:\n got %+v\nwant %+v", obj, i, got, w)
			}
			if got.IsGlobalData() != (w.Data != nil) {
				t.Errorf("%s: %s: IsGlobalData %v", obj, w.Name, got.IsGlobalData())
			}
			if spec.MapIndex(w.Name) != i || spec.Map(w.Name) != got {
				t.Errorf("%s: MapIndex(%q) = %d, want %d", obj, w.Name, spec.MapIndex(w.Name), i)
			}
		}
		// Prog array contents name programs of the object.
		for _, kv := range spec.Map("jmp_table").Contents {
			if spec.Program(kv.Value) == nil {
				t.Errorf("%s: jmp_table[%d] names %q, not a program", obj, kv.Key, kv.Value)
			}
		}
	}
	if spec := mustLoad(t, "prog.o"); spec.MapIndex("nope") != -1 || spec.Map("nope") != nil || spec.Program("nope") != nil {
		t.Error("lookups of unknown names found something")
	}
}

func TestCopy(t *testing.T) {
	spec := mustLoad(t, "prog.o")
	cpy := spec.Copy()
	if !reflect.DeepEqual(spec, cpy) {
		t.Fatal("copy differs from the original")
	}
	cpy.Map(".data").Data[0] = 99
	cpy.Program("xdp_count").Instructions[0].Imm = 1234
	cpy.Program("xdp_count").References[0].Name = "changed"
	cpy.Map("outer").InnerMap.MaxEntries = 77
	cpy.Map("jmp_table").Contents[0].Value = "changed"
	if err := cpy.SetConstant("cfg_port", uint32(1)); err != nil {
		t.Fatal(err)
	}
	if spec.Map(".data").Data[0] != 1 || spec.Program("xdp_count").Instructions[0].Imm == 1234 ||
		spec.Program("xdp_count").References[0].Name != "counts" || spec.Map("outer").InnerMap.MaxEntries != 2 ||
		spec.Map("jmp_table").Contents[0].Value != "tail_one" || !bytes.Equal(spec.Map(".rodata").Data[:4], []byte{80, 0, 0, 0}) {
		t.Error("changing the copy changed the original")
	}
	var nilSpec *Spec
	if nilSpec.Copy() != nil {
		t.Error("nil Copy is not nil")
	}
}
