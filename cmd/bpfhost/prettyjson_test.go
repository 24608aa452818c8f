package main

import (
	"strings"
	"testing"
)

// TestBpftoolPretty: JSON laid out as bpftool's json_writer lays it out
// (the wants are bpftool 7.1's output for the same documents).
func TestBpftoolPretty(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`[{"key":1,"value":5}]`, "[{\n        \"key\": 1,\n        \"value\": 5\n    }\n]\n"},
		{`{"key":["0x01","0x00"],"value":["0x05"],"formatted":{"key":1,"value":5}}`,
			"{\n    \"key\": [\"0x01\",\"0x00\"\n    ],\n    \"value\": [\"0x05\"\n    ],\n    \"formatted\": {\n        \"key\": 1,\n        \"value\": 5\n    }\n}\n"},
		{`[{"value":{".rodata":[{"a":23},{"b":"x"}]}}]`,
			"[{\n        \"value\": {\n            \".rodata\": [{\n                    \"a\": 23\n                },{\n                    \"b\": \"x\"\n                }\n            ]\n        }\n    }\n]\n"},
		{`[]`, "[]\n"},
		{`{"map_ids":[1,2],"e":{},"t":true,"n":null}`, "{\n    \"map_ids\": [1,2\n    ],\n    \"e\": {},\n    \"t\": true,\n    \"n\": null\n}\n"},
		// Bare values for people (api.Entry.Formatted).
		{"{\"low\":\"\\u00000x7\",\"p\":\"\\u0000(nil)\"}", "{\n    \"low\": 0x7,\n    \"p\": (nil)\n}\n"},
	} {
		var b strings.Builder
		if err := writeBpftoolPretty(&b, []byte(c.in)); err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if b.String() != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.in, b.String(), c.want)
		}
	}
	if err := writeBpftoolPretty(&strings.Builder{}, []byte(`{"a":`)); err == nil {
		t.Error("a broken document: no error")
	}
}
