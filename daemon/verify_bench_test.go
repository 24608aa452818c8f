package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// BenchmarkLoadVerifier loads an object through a verifier (the child's
// code, in process, without the cost of starting a process) and unpins it
// again: the load verifies once, in the verifier, and uses its verdict.
// The objects are the counter and the XDP hook's test program, whose
// verification takes longer.
func BenchmarkLoadVerifier(b *testing.B) {
	for _, path := range []string{"testdata/counter.o", "../hooks/xdp/testdata/hook.o"} {
		obj, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(path), func(b *testing.B) { benchLoadVerifier(b, obj) })
	}
}

func benchLoadVerifier(b *testing.B, obj []byte) {
	d, err := New(Options{Engine: "interp", Logger: slog.New(slog.DiscardHandler), Verify: InProcessVerifier})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := d.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/p"}); err != nil {
			b.Fatal(err)
		}
		if err := d.Unpin("/p"); err != nil {
			b.Fatal(err)
		}
	}
}
