package daemon

import (
	"context"
	"os"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/maps"
)

// TestBloomFilterRestore: values a program pushed into a bloom filter, and
// one pushed through the API, are in it after a restart (as after
// SIGKILL): the filter lives in a memory file.
func TestBloomFilterRestore(t *testing.T) {
	if !maps.FileMemory {
		t.Skip("map memory files need Linux")
	}
	obj, err := os.ReadFile("testdata/bloom.o")
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	d := newTestDaemon(t, state)
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/bloom", PinMaps: "/bloom-maps"}); err != nil {
		t.Fatal(err)
	}
	run := func(d *Daemon, v uint32, push bool) uint32 {
		t.Helper()
		pkt := append(u32(v), make([]byte, 60)...)
		if push {
			pkt[4] = 1
		}
		res, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/bloom"}, DataIn: pkt})
		if err != nil {
			t.Fatal(err)
		}
		return res.Retval
	}
	for v := uint32(1); v <= 20; v++ {
		if got := run(d, v, true); got != xdpTX {
			t.Fatalf("push %d: verdict %d", v, got)
		}
	}
	if err := d.Push(api.MapRequest{Map: api.Ref{Pinned: "/bloom-maps/seen"}, Value: u32(99)}); err != nil {
		t.Fatal(err)
	}
	if got := run(d, 12345, false); got != xdpDrop {
		t.Fatalf("a value never pushed: verdict %d", got)
	}
	d2 := restart(t, d, state)
	for _, v := range []uint32{1, 7, 20, 99} {
		if got := run(d2, v, false); got != xdpPass {
			t.Fatalf("value %d after restart: verdict %d, want pass (in the filter)", v, got)
		}
	}
	if got := run(d2, 12345, false); got != xdpDrop {
		t.Fatalf("a value never pushed, after restart: verdict %d", got)
	}
}
