package main

import (
	"encoding/json"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestEntryJSON checks bpftool's JSON shapes of entries: "value" as hex
// strings, and per-CPU values as [{"cpu", "value"}], each slot's value cut
// out of its 8-byte-aligned stride.
func TestEntryJSON(t *testing.T) {
	info := api.MapInfo{BytesKey: 4, BytesValue: 4}
	e := api.Entry{Key: []byte{1, 0, 0, 0}, Value: []byte{0xff, 0, 0, 0, 9, 9, 9, 9, 2, 0, 0, 0, 9, 9, 9, 9}}
	for _, tc := range []struct {
		slots int
		value []byte
		want  string
	}{
		{0, []byte{0xab, 0, 0, 1}, `{"key":["0x01","0x00","0x00","0x00"],"value":["0xab","0x00","0x00","0x01"]}`},
		{2, e.Value, `{"key":["0x01","0x00","0x00","0x00"],"values":[{"cpu":0,"value":["0xff","0x00","0x00","0x00"]},{"cpu":1,"value":["0x02","0x00","0x00","0x00"]}]}`},
	} {
		b, err := json.Marshal(entryJSON(info, tc.slots, api.Entry{Key: e.Key, Value: tc.value}))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("slots %d:\n got %s\nwant %s", tc.slots, b, tc.want)
		}
	}
}

// TestParseBytes checks bpftool's byte arguments.
func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		n    int
		want []byte
		rest int
		ok   bool
	}{
		{[]string{"1", "0x2", "010", "255", "value"}, 4, []byte{1, 2, 8, 255}, 1, true},
		{[]string{"hex", "ff", "0a", "0x0B"}, 3, []byte{0xff, 0x0a, 0x0b}, 0, true},
		{[]string{"1", "2"}, 3, nil, 0, false},
		{[]string{"256"}, 1, nil, 0, false},
		{[]string{"-1"}, 1, nil, 0, false},
	} {
		got, rest, err := parseBytes("key", tc.args, tc.n)
		if (err == nil) != tc.ok || string(got) != string(tc.want) || (tc.ok && len(rest) != tc.rest) {
			t.Errorf("%v: %v %v %v", tc.args, got, rest, err)
		}
	}
}
