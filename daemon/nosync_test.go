package daemon

import (
	"context"
	"encoding/binary"
	"log/slog"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestNoSyncRestore: with Options.NoSync, acknowledged writes to a memory
// file map and to a logged queue are there after a restart as after
// SIGKILL (the page cache has them), and the logs are not fsynced.
func TestNoSyncRestore(t *testing.T) {
	state := t.TempDir()
	d, err := New(Options{StateDir: state, Engine: "interp", NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/c", PinMaps: "/cm"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Load(ctx, api.LoadRequest{Object: queueObject(t), PinPath: "/q", PinMaps: "/qm"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Update(api.MapRequest{Map: api.Ref{Pinned: "/cm/counts"}, Key: u32(5), Value: u64(55)}); err != nil {
		t.Fatal(err)
	}
	if err := d.Push(api.MapRequest{Map: api.Ref{Pinned: "/qm/fifo"}, Value: u32(77)}); err != nil {
		t.Fatal(err)
	}
	for _, m := range d.maps {
		if m.wal != nil && !m.wal.nosync {
			t.Fatalf("map %q: log synced on append", m.m.Name())
		}
	}
	d2 := restart(t, d, state)
	got, err := d2.Lookup(api.MapRequest{Map: api.Ref{Pinned: "/cm/counts"}, Key: u32(5)})
	if err != nil || binary.NativeEndian.Uint64(got.Entries[0].Value) != 55 {
		t.Fatalf("counts[5] after restart: %v, %v", got, err)
	}
	v, err := d2.Pop(api.Ref{Pinned: "/qm/fifo"})
	if err != nil || binary.NativeEndian.Uint32(v) != 77 {
		t.Fatalf("fifo after restart: %x, %v", v, err)
	}
}
