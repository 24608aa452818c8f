package daemon

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

func queueObject(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/queue.o")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPop(t *testing.T, d *Daemon, r api.Ref, want uint32) {
	t.Helper()
	v, err := d.Pop(r)
	if err != nil {
		t.Fatalf("pop: %v", err)
	}
	if got := u32(want); string(v) != string(got) {
		t.Fatalf("popped %x, want %x", v, got)
	}
}

// TestQueueRestore: pushes and pops through the daemon, and a program's
// run, survive a restart without Close (as after SIGKILL), also after the
// logs were compacted.
func TestQueueRestore(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: queueObject(t), PinPath: "/q/prog", PinMaps: "/q/maps"}); err != nil {
		t.Fatal(err)
	}
	fifo, lifo := api.Ref{Pinned: "/q/maps/fifo"}, api.Ref{Pinned: "/q/maps/lifo"}
	// Enough pushes and pops to compact the logs several times.
	for i := uint32(0); i < 3000; i++ {
		if err := d.Push(api.MapRequest{Map: fifo, Value: u32(i)}); err != nil {
			t.Fatal(err)
		}
		mustPop(t, d, fifo, i)
	}
	for _, v := range []uint32{1, 2, 3, 4} {
		if err := d.Push(api.MapRequest{Map: fifo, Value: u32(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Push(api.MapRequest{Map: fifo, Value: u32(5)}); !errors.Is(err, bpfhost.ErrMemoryLimit) && CodeOf(err) != api.CodeTooBig {
		t.Errorf("push onto a full queue: %v (code %s)", err, CodeOf(err))
	}
	if err := d.Push(api.MapRequest{Map: fifo, Value: u32(5), Flags: 2}); err != nil { // drops 1
		t.Fatal(err)
	}
	for _, v := range []uint32{10, 20} {
		if err := d.Push(api.MapRequest{Map: lifo, Value: u32(v)}); err != nil {
			t.Fatal(err)
		}
	}
	// The program moves 2 from the queue to the stack.
	if _, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/q/prog"}, DataIn: make([]byte, 64)}); err != nil {
		t.Fatal(err)
	}
	if v, err := d.Peek(fifo); err != nil || string(v) != string(u32(3)) {
		t.Fatalf("peek %x, %v; want 3", v, err)
	}
	if _, err := d.Peek(api.Ref{Pinned: "/q/prog"}); CodeOf(err) != api.CodeNotFound && CodeOf(err) != api.CodeInvalid {
		t.Errorf("peek of a program: %v", err)
	}

	d.lock.Close()
	d2 := newTestDaemon(t, state)
	defer d2.Close()
	mustPop(t, d2, fifo, 3)
	mustPop(t, d2, fifo, 4)
	mustPop(t, d2, fifo, 5)
	if _, err := d2.Pop(fifo); CodeOf(err) != api.CodeNotFound {
		t.Errorf("pop of an empty queue: %v", err)
	}
	mustPop(t, d2, lifo, 2)
	mustPop(t, d2, lifo, 20)
	mustPop(t, d2, lifo, 10)
	if err := d2.Push(api.MapRequest{Map: lifo, Value: u32(1), Flags: 1}); CodeOf(err) != api.CodeInvalid {
		t.Errorf("push with noexist: %v", err)
	}
}
