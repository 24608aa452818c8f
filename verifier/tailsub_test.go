package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/object"
)

// tailSubVerdicts is what the verifier says of each program of
// testdata/tailsub.o (tail calls made in subprograms): "" accepted, or a
// part of its diagnostic. Linux accepts exactly the programs named *_ok
// (TestTailSubKernel).
var tailSubVerdicts = map[string]string{
	"stack240_ok": "",
	"stack248":    "callers' frames take 256 bytes",
	"deep240_ok":  "",
	"deep272":     "callers' frames take 272 bytes",
	"bigown_ok":   "",
	"bigprev":     "callers' frames take 320 bytes",
	"deadtail256": "callers' frames take 256 bytes",
	"deep8_ok":    "",
	"r0trust":     "r10+8",
	"voidsub_ok":  "",
	"pktsub":      "invalidated by the helper call",
	"pktfall_ok":  "",
	"loopcb":      "bpf_tail_call is not allowed in a callback",
	"loopcb2":     "bpf_tail_call is not allowed in a callback",
}

// TestTailSubVerdicts checks the verifier's verdict on every program of
// testdata/tailsub.o.
func TestTailSubVerdicts(t *testing.T) {
	spec, err := object.Load("testdata/tailsub.o")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, p := range spec.Programs {
		want, ok := tailSubVerdicts[p.Name]
		if !ok {
			t.Errorf("%s: no verdict listed", p.Name)
			continue
		}
		seen++
		opts, err := objectOptions(spec, p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(p.Instructions, opts)
		checkVerdict(t, p.Name, err, want)
	}
	if seen != len(tailSubVerdicts) {
		t.Errorf("%d programs checked, %d listed", seen, len(tailSubVerdicts))
	}
}
