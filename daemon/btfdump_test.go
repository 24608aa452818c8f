package daemon

import (
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestFormatEntry: bpftool's btf_dumper rules that differ between its JSON
// and its output for people, and what bpftool prints for values the
// end-to-end test (TestDaemonFormattedAgreesWithBpftool) does not reach.
func TestFormatEntry(t *testing.T) {
	u8 := &btf.Int{Name: "unsigned char", Size: 1}
	ch := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	i16 := &btf.Int{Name: "short", Size: 2, Encoding: btf.Signed}
	u128 := &btf.Int{Name: "__int128 unsigned", Size: 16}
	e := &btf.Enum{Name: "e", Size: 1, Signed: true, Values: []btf.EnumValue{{Name: "A", Value: 1}}}
	ptr := &btf.Pointer{Target: &btf.Void{}}
	for _, c := range []struct {
		t           btf.Type
		data        []byte
		json, plain string
	}{
		{ch, []byte{'x'}, `{"value":"x"}`, `{"value":"x"}`},
		{ch, []byte{7}, `{"value":"\u0007"}`, "{\"value\":\"\\u00000x7\"}"},
		{i16, []byte{0xfe, 0xff}, `{"value":-2}`, `{"value":-2}`},
		{u128, append([]byte{1}, make([]byte, 15)...), `{"value":"0x1"}`, "{\"value\":\"\\u00000x1\"}"},
		{u128, append(make([]byte, 8), 2, 0, 0, 0, 0, 0, 0, 0), `{"value":"0x20000000000000000"}`, "{\"value\":\"\\u00000x20000000000000000\"}"},
		{e, []byte{1}, `{"value":"A"}`, `{"value":"A"}`},
		{e, []byte{0xff}, `{"value":-1}`, `{"value":-1}`},
		{ptr, make([]byte, 8), `{"value":0}`, "{\"value\":\"\\u0000(nil)\"}"},
		{&btf.Array{Type: ch, Nelems: 3}, []byte{'a', 'b', 'c'}, `{"value":["a","b","c"]}`, `{"value":["a","b","c"]}`},
		{&btf.Array{Type: u8, Nelems: 2}, []byte{0, 1}, `{"value":[0,1]}`, `{"value":[0,1]}`},
	} {
		for _, plain := range []bool{false, true} {
			want := c.json
			if plain {
				want = c.plain
			}
			got, err := formatEntry(mapTypes{Value: c.t}, nil, c.data, 0, plain)
			if err != nil || string(got) != want {
				t.Errorf("%v % x plain %v: %s, %v; want %s", c.t, c.data, plain, got, err, want)
			}
		}
	}
	// A billion empty structs: an error, not a gigabyte.
	if _, err := formatEntry(mapTypes{Value: &btf.Array{Type: &btf.Struct{}, Nelems: 1 << 30}}, nil, nil, 0, false); err == nil {
		t.Error("a billion empty structs: no error")
	}
	// Data shorter than the type: an error, not a panic.
	if _, err := formatEntry(mapTypes{Value: i16}, nil, []byte{1}, 0, false); err == nil {
		t.Error("short data: no error")
	}
}
