package bench

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// wantResults are the return values of the benchmark programs on input
// with the table filled by fillTable: the benchmarks must time the same
// computation on every engine and in the kernel.
var wantResults = map[string]uint32{
	"trivial":      2,          // XDP_PASS
	"hash_lookups": 3 * 32256,  // 3 * (0 + 16 + ... + 1008): every lookup hits
	"arith_loop":   0x803b5c50, // as the kernel computes it (TestResultsKernel)
}

// TestResults runs each benchmark program once on each engine.
func TestResults(t *testing.T) {
	for _, engine := range engines {
		spec, err := bpfhost.LoadCollectionSpec("progs/progs.o")
		if err != nil {
			t.Fatal(err)
		}
		coll, err := bpfhost.NewCollection(spec, engineOptions(engine))
		if err != nil {
			t.Fatal(err)
		}
		defer coll.Close()
		for i := uint32(0); i < 1024; i++ {
			if err := coll.Maps["table"].Put(i, uint64(i)*3); err != nil {
				t.Fatal(err)
			}
		}
		for prog, want := range wantResults {
			p := coll.Programs[prog]
			if p.Engine() != strings.TrimSuffix(engine, "-checked") {
				t.Logf("%s runs on %s: %s", prog, p.Engine(), p.Fallback())
			}
			got, err := p.Run(&bpfhost.RunOptions{Data: input})
			if err != nil || got != want {
				t.Errorf("%s on %s: %#x, %v; want %#x", prog, engine, got, err, want)
			}
		}
	}
}
