package verifier

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
)

// TestSoundnessRegressions replays the programs the soundness fuzzer found
// (testdata/soundness, each with its story in a comment): the verifier must
// not panic on them, programs named *-unsound.s must be rejected, and
// whatever is accepted must run without faults on many packets.
func TestSoundnessRegressions(t *testing.T) {
	files, _ := filepath.Glob("testdata/soundness/*.s")
	if len(files) == 0 {
		t.Fatal("no regression programs in testdata/soundness")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := isa.Assemble(string(src))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(1, 2))}
		if _, err := h.verify(prog, fuzzMaps); err == nil && strings.HasSuffix(f, "-unsound.s") {
			t.Errorf("%s: accepted", f)
		}
		for i := 0; i < 50; i++ {
			if v := h.try(prog, fuzzMaps); v != nil {
				h.fail(v)
			}
		}
	}
}
