package bpfhost_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost"
)

// TestRunContext checks RunOptions.Ctx: a run stops at its deadline on both
// engines, and a canceled context does not start one.
func TestRunContext(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("testdata/cli/nestloop.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range bpfhost.Engines() {
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Slots: 1})
		if err != nil {
			t.Fatal(err)
		}
		p := coll.Programs["nestloop"]
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_, err = p.Run(&bpfhost.RunOptions{Data: make([]byte, 64), Ctx: ctx})
		cancel()
		if !errors.Is(err, bpfhost.ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v; want canceled at the deadline", engine, err)
		}
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		_, err = p.Run(&bpfhost.RunOptions{Data: make([]byte, 64), Ctx: ctx, Repeat: 3})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: canceled context: %v", engine, err)
		}
		coll.Close()
	}
}
