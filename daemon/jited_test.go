package daemon

import (
	"context"
	"log/slog"
	"runtime"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestJited: a JIT-compiled program lists its machine code by instruction;
// an interpreted one and a missing one are errors.
func TestJited(t *testing.T) {
	d := newTestDaemon(t, "") // interpreter only
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Jited(api.Ref{Pinned: "/p"}); CodeOf(err) != api.CodeNotSupp {
		t.Errorf("interpreted program: %v", err)
	}
	if _, err := d.Jited(api.Ref{ID: 999}); CodeOf(err) != api.CodeNotFound {
		t.Errorf("missing program: %v", err)
	}
	if runtime.GOARCH != "amd64" {
		return
	}
	dj, err := New(Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer dj.Close()
	if _, err := dj.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	blocks, err := dj.Jited(api.Ref{Pinned: "/p"})
	if err != nil {
		t.Fatal(err)
	}
	pcs := 0
	for _, b := range blocks {
		if b.PC >= 0 && !b.OutOfLine {
			pcs++
			if b.Insn == "" {
				t.Errorf("block %+v: no eBPF instruction", b)
			}
		}
	}
	if pcs == 0 || len(blocks[0].Code) == 0 {
		t.Errorf("blocks %+v", blocks)
	}
}
