package daemon

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// TestEventPipePerf streams a perf event array's samples, with their CPU,
// while a program runs; a second reader of the same map is EBUSY.
func TestEventPipePerf(t *testing.T) {
	sock, _ := serve(t, Options{Engine: "interp", Slots: 1}, nil)
	c := dialTest(t, sock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obj, err := os.ReadFile("testdata/perf.o")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/pf", PinMaps: "/pfm"}); err != nil {
		t.Fatal(err)
	}
	got := make(chan api.Event, 16)
	done := make(chan error, 1)
	go func() {
		done <- c.Events(ctx, api.Ref{Pinned: "/pfm/samples"}, func(ev api.Event) error { got <- ev; return nil })
	}()
	// Run until the reader is attached (samples before it are dropped,
	// as Linux's without a perf event open), then once more with a mark.
	pkt := make([]byte, 64)
	first := firstEvent(t, func() {
		if _, err := c.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/pf"}, DataIn: pkt}); err != nil {
			t.Fatal(err)
		}
	}, got)
	if first.CPU == nil || *first.CPU != 0 || len(first.Data) != 4 || first.Lost != 0 {
		t.Fatalf("sample %+v", first)
	}
	var re *remote.Error
	if err := c.Events(ctx, api.Ref{Pinned: "/pfm/samples"}, nil); !errors.As(err, &re) || re.Code != api.CodeBusy {
		t.Errorf("second reader: %v", err)
	}
	copy(pkt, []byte{9, 8, 7, 6})
	if _, err := c.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/pf"}, DataIn: pkt}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ev := <-got:
			if string(ev.Data) != "\x09\x08\x07\x06" {
				continue // an earlier run's
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("event pipe after cancel: %v", err)
			}
			return
		case <-time.After(settle):
			t.Fatal("the marked sample did not come")
		}
	}
}
