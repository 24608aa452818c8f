package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestLibbpfMapOrder: "map idx IDX" counts the maps as libbpf does (the
// .maps section in its order, not the spec's order by name).
func TestLibbpfMapOrder(t *testing.T) {
	obj := counterObject(t)
	spec, err := bpfhost.LoadCollectionSpecFromReader(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	if got := libbpfMapOrder(obj, spec); !slices.Equal(got, []string{"counts", "total"}) {
		t.Errorf("counter.o: %v, want [counts total]", got)
	}
	cfg, err := os.ReadFile("../examples/config.o")
	if err != nil {
		t.Fatal(err)
	}
	spec, err = bpfhost.LoadCollectionSpecFromReader(bytes.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	// In the ELF's section order, as libbpf created them in the kernel
	// (bpftool map show lists config.rodata, config.bss, config.data by
	// ID); by name they would be .bss, .data, .rodata.
	if got := libbpfMapOrder(cfg, spec); !slices.Equal(got, []string{".rodata", ".bss", ".data"}) {
		t.Errorf("config.o: %v, want [.rodata .bss .data]", got)
	}
}

// TestReuseMap: a load that reuses a created map runs against it, holds
// it after its pin goes, and keeps it across a restart (a second daemon on
// the state directory, as after SIGKILL).
func TestReuseMap(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	ctx := context.Background()
	if _, err := d.CreateMap(ctx, api.MapCreateRequest{Path: "/shared", Type: "hash", KeySize: 4, ValueSize: 8, MaxEntries: 64, Name: "shared"}); err != nil {
		t.Fatal(err)
	}
	zero := 0
	res, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p", Maps: []api.MapReplacement{{Idx: &zero, Map: api.Ref{Pinned: "/shared"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Maps) != 1 || res.Maps[0].Name != "total" {
		t.Errorf("the load's own maps %+v, want total alone", res.Maps)
	}
	run := func(d *Daemon) {
		t.Helper()
		if _, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/p"}, DataIn: append([]byte{5}, make([]byte, 63)...)}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(d *Daemon, ref api.Ref) uint64 {
		t.Helper()
		r, err := d.Lookup(api.MapRequest{Map: ref, Key: u32(5)})
		if err != nil {
			t.Fatal(err)
		}
		return binary.NativeEndian.Uint64(r.Entries[0].Value)
	}
	run(d)
	if n := count(d, api.Ref{Pinned: "/shared"}); n != 1 {
		t.Errorf("count in the shared map %d, want 1", n)
	}
	if err := d.Unpin("/shared"); err != nil {
		t.Fatal(err)
	}
	// Held by the program: by name still.
	if n := count(d, api.Ref{Name: "shared"}); n != 1 {
		t.Errorf("after its unpin: %d, want 1", n)
	}
	d.lock.Close()
	d2 := newTestDaemon(t, state)
	defer d2.Close()
	run(d2)
	if n := count(d2, api.Ref{Name: "shared"}); n != 2 {
		t.Errorf("after a restart: %d, want 2", n)
	}
	if err := d2.Unpin("/p"); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Map(api.Ref{Name: "shared"}); CodeOf(err) != api.CodeNotFound {
		t.Errorf("with neither pin nor program: %v, want ENOENT", err)
	}
	if ents, _ := os.ReadDir(d2.unitsDir()); len(ents) != 0 {
		t.Errorf("%d units left in the state directory", len(ents))
	}
	d.Close()
}

// TestReuseRacesUnpin: loads that reuse a map race with its unpin: each
// load either fails with ENOENT or holds the map, which then lives (no
// scheduling can make a load use a map the daemon has let go).
func TestReuseRacesUnpin(t *testing.T) {
	d := newTestDaemon(t, "")
	defer d.Close()
	ctx := context.Background()
	obj := counterObject(t)
	for i := 0; i < 8; i++ {
		pin := fmt.Sprintf("/m%d", i)
		if _, err := d.CreateMap(ctx, api.MapCreateRequest{Path: pin, Type: "hash", KeySize: 4, ValueSize: 8, MaxEntries: 16, Name: "m"}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var loadErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, loadErr = d.Load(ctx, api.LoadRequest{Object: obj, PinPath: fmt.Sprintf("/p%d", i), Maps: []api.MapReplacement{{Name: "counts", Map: api.Ref{Pinned: pin}}}})
		}()
		go func() {
			defer wg.Done()
			if err := d.Unpin(pin); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		if loadErr != nil {
			if CodeOf(loadErr) != api.CodeNotFound {
				t.Errorf("load %d: %v, want success or ENOENT", i, loadErr)
			}
			continue
		}
		p, err := d.Program(api.Ref{Pinned: fmt.Sprintf("/p%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range p.MapIDs {
			if _, err := d.Map(api.Ref{ID: id}); err != nil {
				t.Errorf("load %d: its map %d: %v", i, id, err)
			}
		}
		if _, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{ID: p.ID}, DataIn: make([]byte, 64)}); err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
}
