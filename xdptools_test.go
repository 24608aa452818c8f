package bpfhost

import (
	"errors"
	"strings"
	"testing"
)

// xdpToolsShapes are the programs of testdata/xdptools, each a shape that
// xdp-tools' and libxdp's objects have (TestXDPTools measures those), with
// bpfhost's verdict: "" loads, otherwise a fragment of the verifier's or
// the loader's error. TestXDPToolsKernel checks the same verdicts against
// the running kernel.
var xdpToolsShapes = []struct {
	object, program, refuse string
}{
	{"perfsize.o", "perf_no_sizes", ""},
	{"vprintk.o", "printk_four", ""},
	{"frags.o", "frags_bytes", ""},
	{"frags.o", "frags_devmap", ""},
	{"frags.o", "frags_cpumap", ""},
}

// TestXDPToolsShapes loads each program of xdpToolsShapes alone and checks
// bpfhost's verdict: what Linux accepts loads (maps created, program
// compiled), what it refuses is refused with an error that says why.
func TestXDPToolsShapes(t *testing.T) {
	for _, tt := range xdpToolsShapes {
		t.Run(tt.program, func(t *testing.T) {
			spec, err := LoadCollectionSpec("testdata/xdptools/" + tt.object)
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewCollection(spec, &CollectionOptions{Programs: []string{tt.program}})
			if tt.refuse == "" {
				if err != nil {
					t.Fatalf("%s: %v", tt.program, err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatalf("%s loads; want it refused (%s)", tt.program, tt.refuse)
			}
			var ve *VerifierError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.refuse) {
				t.Errorf("%s: %v; want a verifier error about %q", tt.program, err, tt.refuse)
			}
		})
	}
}
