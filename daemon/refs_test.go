package daemon

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
)

func refsObject(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/refs.o")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runEntry runs the entry program pinned at path and returns its verdict.
func runEntry(t *testing.T, d *Daemon, path string) uint32 {
	t.Helper()
	res, err := d.Run(context.Background(), api.RunRequest{Prog: api.Ref{Pinned: path}, DataIn: make([]byte, 64)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Retval
}

// restart starts a second daemon on d's state directory as after SIGKILL:
// d's lock goes, nothing of d is closed first.
func restart(t *testing.T, d *Daemon, state string) *Daemon {
	t.Helper()
	d.lock.Close()
	d.lock = nil
	d2 := newTestDaemon(t, state)
	t.Cleanup(func() { d2.Close(); d.Close() })
	return d2
}

const (
	xdpAborted = 0
	xdpDrop    = 1
	xdpPass    = 2
	xdpTX      = 3
)

// TestReferenceMapsRestore: program array, map of maps and devmap entries
// set through the API, naming objects of the same unit and of another one
// that is no longer pinned, survive a restart; a delete does too.
func TestReferenceMapsRestore(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	ctx := context.Background()
	for _, dir := range []string{"/a", "/b"} {
		if _, err := d.Load(ctx, api.LoadRequest{Object: refsObject(t), All: true, PinPath: dir, PinMaps: dir + "/maps"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := runEntry(t, d, "/a/entry"); got != xdpAborted {
		t.Fatalf("before any update: verdict %d, want aborted (outer[0] is empty)", got)
	}
	jmp, outer, devs := api.Ref{Pinned: "/a/maps/jmp"}, api.Ref{Pinned: "/a/maps/outer"}, api.Ref{Pinned: "/a/maps/devs"}
	// jmp[0] = b's to_tx; jmp[1] = a's to_drop, then deleted.
	if err := d.Update(api.MapRequest{Map: jmp, Key: u32(0), ValueRef: &api.Ref{Pinned: "/b/to_tx"}}); err != nil {
		t.Fatal(err)
	}
	drop, err := d.Program(api.Ref{Pinned: "/a/to_drop"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Update(api.MapRequest{Map: jmp, Key: u32(1), Value: u32(drop.ID)}); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(api.MapRequest{Map: jmp, Key: u32(1)}); err != nil {
		t.Fatal(err)
	}
	// outer[0] = b's inner, holding 42.
	if err := d.Update(api.MapRequest{Map: outer, Key: u32(0), ValueRef: &api.Ref{Pinned: "/b/maps/inner"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Update(api.MapRequest{Map: api.Ref{Pinned: "/b/maps/inner"}, Key: u32(0), Value: u64(42)}); err != nil {
		t.Fatal(err)
	}
	// houter[1<<40] = b's inner; cpus[3] = queue size 64 with a's on_cpu.
	if err := d.Update(api.MapRequest{Map: api.Ref{Pinned: "/a/maps/houter"}, Key: u64(1 << 40), ValueRef: &api.Ref{Pinned: "/b/maps/inner"}}); err != nil {
		t.Fatal(err)
	}
	onCPU, err := d.Program(api.Ref{Pinned: "/a/on_cpu"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Update(api.MapRequest{Map: api.Ref{Pinned: "/a/maps/cpus"}, Key: u32(3), Value: append(u32(64), u32(onCPU.ID)...)}); err != nil {
		t.Fatal(err)
	}
	// devs[2] = ifindex 7 with a's egress program.
	egress, err := d.Program(api.Ref{Pinned: "/a/egress"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Update(api.MapRequest{Map: devs, Key: u32(2), Value: append(u32(7), u32(egress.ID)...)}); err != nil {
		t.Fatal(err)
	}
	if got := runEntry(t, d, "/a/entry"); got != xdpTX {
		t.Fatalf("jmp[0] = to_tx: verdict %d", got)
	}
	// b's objects are held by a's maps only.
	for _, pin := range []string{"/b/entry", "/b/to_drop", "/b/to_tx", "/b/egress", "/b/on_cpu", "/b/lookup_houter",
		"/b/maps/jmp", "/b/maps/inner", "/b/maps/outer", "/b/maps/houter", "/b/maps/result", "/b/maps/devs", "/b/maps/cpus"} {
		if err := d.Unpin(pin); err != nil {
			t.Fatal(err)
		}
	}
	if got := runEntry(t, d, "/a/entry"); got != xdpTX {
		t.Fatalf("after b's unpin: verdict %d", got)
	}
	beforeProgs, beforeMaps := len(d.Programs()), len(d.Maps())

	d2 := restart(t, d, state)
	if got := runEntry(t, d2, "/a/entry"); got != xdpTX {
		t.Fatalf("after restart: verdict %d, want the tail call to b's to_tx", got)
	}
	if n, m := len(d2.Programs()), len(d2.Maps()); n != beforeProgs || m != beforeMaps {
		t.Fatalf("after restart %d programs and %d maps, before %d and %d", n, m, beforeProgs, beforeMaps)
	}
	dump, err := d2.Dump(api.MapRequest{Map: jmp})
	if err != nil {
		t.Fatal(err)
	}
	if len(dump.Entries) != 1 || binary.NativeEndian.Uint32(dump.Entries[0].Key) != 0 {
		t.Fatalf("jmp after restart: %v", dump.Entries)
	}
	target, err := d2.Program(api.Ref{ID: binary.NativeEndian.Uint32(dump.Entries[0].Value)})
	if err != nil || target.Name != "to_tx" {
		t.Fatalf("jmp[0] names %+v, %v", target, err)
	}
	dv, err := d2.Lookup(api.MapRequest{Map: devs, Key: u32(2)})
	if err != nil {
		t.Fatal(err)
	}
	v := dv.Entries[0].Value
	if binary.NativeEndian.Uint32(v) != 7 {
		t.Fatalf("devs[2] = %x", v)
	}
	if p, err := d2.Program(api.Ref{ID: binary.NativeEndian.Uint32(v[4:])}); err != nil || p.Name != "egress" {
		t.Fatalf("devs[2] names %+v, %v", p, err)
	}
	hv, err := d2.Lookup(api.MapRequest{Map: api.Ref{Pinned: "/a/maps/houter"}, Key: u64(1 << 40)})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := d2.Map(api.Ref{ID: binary.NativeEndian.Uint32(hv.Entries[0].Value)}); err != nil || m.Name != "inner" {
		t.Fatalf("houter[1<<40] names %+v, %v", m, err)
	}
	cv, err := d2.Lookup(api.MapRequest{Map: api.Ref{Pinned: "/a/maps/cpus"}, Key: u32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if binary.NativeEndian.Uint32(cv.Entries[0].Value) != 64 {
		t.Fatalf("cpus[3] = %x", cv.Entries[0].Value)
	}
	if p, err := d2.Program(api.Ref{ID: binary.NativeEndian.Uint32(cv.Entries[0].Value[4:])}); err != nil || p.Name != "on_cpu" {
		t.Fatalf("cpus[3] names %+v, %v", p, err)
	}
	if err := d2.Delete(api.MapRequest{Map: api.Ref{Pinned: "/a/maps/houter"}, Key: u64(1 << 40)}); err != nil {
		t.Fatal(err)
	}
	// Without the tail call: outer[0] is b's inner, with 42.
	if err := d2.Delete(api.MapRequest{Map: jmp, Key: u32(0)}); err != nil {
		t.Fatal(err)
	}
	if got := runEntry(t, d2, "/a/entry"); got != xdpPass {
		t.Fatalf("without jmp[0]: verdict %d", got)
	}
	r, err := d2.Lookup(api.MapRequest{Map: api.Ref{Pinned: "/a/maps/result"}, Key: u32(0)})
	if err != nil || binary.NativeEndian.Uint64(r.Entries[0].Value) != 42 {
		t.Fatalf("result = %v, %v: want b's inner value 42", r, err)
	}
	// Nothing holds b's to_tx any more; b still lives for its inner map.
	if _, err := d2.Program(api.Ref{Name: "to_tx"}); err != nil {
		t.Fatalf("a's to_tx: %v", err)
	}
	if err := d2.Delete(api.MapRequest{Map: outer, Key: u32(0)}); err != nil {
		t.Fatal(err)
	}
	if n := len(d2.Maps()); n != 7 {
		t.Fatalf("%d maps after dropping b's last holder, want a's 7", n)
	}
}

// TestReferenceMapsStatic: a program array the object fills statically
// keeps its entries, its targets get IDs, and a deleted static entry stays
// deleted after a restart.
func TestReferenceMapsStatic(t *testing.T) {
	obj, err := os.ReadFile("../examples/dispatcher.o")
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	d := newTestDaemon(t, state)
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: obj, Program: "xdp_dispatch", PinPath: "/d", PinMaps: "/dm"}); err != nil {
		t.Fatal(err)
	}
	dump, err := d.Dump(api.MapRequest{Map: api.Ref{Pinned: "/dm/jump_table"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(dump.Entries) != 3 {
		t.Fatalf("jump_table: %v", dump.Entries)
	}
	for _, e := range dump.Entries {
		if _, err := d.Program(api.Ref{ID: binary.NativeEndian.Uint32(e.Value)}); err != nil {
			t.Fatalf("jump_table[%x]: %v", e.Key, err)
		}
	}
	if err := d.Delete(api.MapRequest{Map: api.Ref{Pinned: "/dm/jump_table"}, Key: u32(1)}); err != nil {
		t.Fatal(err)
	}
	d2 := restart(t, d, state)
	got, err := d2.Dump(api.MapRequest{Map: api.Ref{Pinned: "/dm/jump_table"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entries) != 2 {
		t.Fatalf("jump_table after restart: %v", got.Entries)
	}
	if _, err := d2.Lookup(api.MapRequest{Map: api.Ref{Pinned: "/dm/jump_table"}, Key: u32(1)}); !errors.Is(err, bpfhost.ErrKeyNotExist) {
		t.Fatalf("deleted entry after restart: %v", err)
	}
}

// TestReferenceMapErrors: wrong kinds of values are refused.
func TestReferenceMapErrors(t *testing.T) {
	d := newTestDaemon(t, "")
	defer d.Close()
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: refsObject(t), All: true, PinPath: "/a", PinMaps: "/a/maps"}); err != nil {
		t.Fatal(err)
	}
	toTX, err := d.Program(api.Ref{Pinned: "/a/to_tx"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  api.MapRequest
		code string
	}{
		{"map in a program array", api.MapRequest{Map: api.Ref{Pinned: "/a/maps/jmp"}, Key: u32(0), ValueRef: &api.Ref{Pinned: "/a/maps/inner"}}, api.CodeNotFound},
		{"program in a map of maps", api.MapRequest{Map: api.Ref{Pinned: "/a/maps/outer"}, Key: u32(0), ValueRef: &api.Ref{Pinned: "/a/entry"}}, api.CodeNotFound},
		{"inner map of another shape", api.MapRequest{Map: api.Ref{Pinned: "/a/maps/outer"}, Key: u32(0), ValueRef: &api.Ref{Pinned: "/a/maps/jmp"}}, api.CodeInvalid},
		{"no such program ID", api.MapRequest{Map: api.Ref{Pinned: "/a/maps/jmp"}, Key: u32(0), Value: u32(999)}, api.CodeNotFound},
		{"index out of range", api.MapRequest{Map: api.Ref{Pinned: "/a/maps/jmp"}, Key: u32(9), ValueRef: &api.Ref{Pinned: "/a/to_tx"}}, api.CodeTooBig},
		{"devmap program of another attach type", api.MapRequest{Map: api.Ref{Pinned: "/a/maps/devs"}, Key: u32(0), Value: append(u32(1), u32(toTX.ID)...)}, api.CodeInvalid},
		{"cpumap program of another attach type", api.MapRequest{Map: api.Ref{Pinned: "/a/maps/cpus"}, Key: u32(0), Value: append(u32(1), u32(toTX.ID)...)}, api.CodeInvalid},
		{"devmap value of the wrong size", api.MapRequest{Map: api.Ref{Pinned: "/a/maps/devs"}, Key: u32(0), Value: u32(1)}, api.CodeInvalid},
		{"hash of maps key of the wrong size", api.MapRequest{Map: api.Ref{Pinned: "/a/maps/houter"}, Key: u32(0), ValueRef: &api.Ref{Pinned: "/a/maps/inner"}}, api.CodeInvalid},
		{"object in a plain map", api.MapRequest{Map: api.Ref{Pinned: "/a/maps/result"}, Key: u32(0), ValueRef: &api.Ref{Pinned: "/a/entry"}}, api.CodeInvalid},
	} {
		err := d.Update(tc.req)
		if CodeOf(err) != tc.code {
			t.Errorf("%s: %v (code %s), want %s", tc.name, err, CodeOf(err), tc.code)
		}
	}
}

// TestReferenceMapLogCompaction: a program array's log is replaced by a
// snapshot when it grows, and the snapshot restores the same entries.
func TestReferenceMapLogCompaction(t *testing.T) {
	defer func(min, factor int64) { walCompactMin, walCompactFactor = min, factor }(walCompactMin, walCompactFactor)
	walCompactMin, walCompactFactor = 1000, 0
	state := t.TempDir()
	d := newTestDaemon(t, state)
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: refsObject(t), All: true, PinPath: "/a", PinMaps: "/a/maps"}); err != nil {
		t.Fatal(err)
	}
	jmp := api.Ref{Pinned: "/a/maps/jmp"}
	targets := []string{"/a/to_drop", "/a/to_tx"}
	for i := 0; i < 100; i++ {
		if err := d.Update(api.MapRequest{Map: jmp, Key: u32(uint32(i % 4)), ValueRef: &api.Ref{Pinned: targets[i%2]}}); err != nil {
			t.Fatal(err)
		}
	}
	var m *mapObj
	for _, mo := range d.maps {
		if mo.m.Name() == "jmp" {
			m = mo
		}
	}
	if m.refs.wal.size > 1000+200 {
		t.Fatalf("log of %d bytes after 100 updates: not compacted", m.refs.wal.size)
	}
	want, err := d.Dump(api.MapRequest{Map: jmp})
	if err != nil {
		t.Fatal(err)
	}
	d2 := restart(t, d, state)
	got, err := d2.Dump(api.MapRequest{Map: jmp})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entries) != 4 || len(want.Entries) != 4 {
		t.Fatalf("after restart %v, before %v", got.Entries, want.Entries)
	}
	// Entry i holds to_tx for odd i (the last update of index i).
	if r := runEntry(t, d2, "/a/entry"); r != xdpDrop {
		t.Fatalf("jmp[0] after restart: verdict %d, want to_drop's", r)
	}
}

// TestReferenceMapsConcurrent: clients load objects, point their program
// arrays at each other's programs, run, and unpin, all at once (run it
// with -race); in the end nothing is left, since nothing is pinned.
func TestReferenceMapsConcurrent(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	defer d.Close()
	ctx := context.Background()
	const n = 8
	obj := refsObject(t)
	pins := func(i int) string { return "/c" + string(rune('0'+i)) }
	for i := 0; i < n; i++ {
		if _, err := d.Load(ctx, api.LoadRequest{Object: obj, All: true, PinPath: pins(i), PinMaps: pins(i) + "/maps"}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, n)
	var updated sync.WaitGroup
	updated.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			done <- func() error {
				me, next := pins(i), pins((i+1)%n)
				err := func() error {
					for k := 0; k < 20; k++ {
						if err := d.Update(api.MapRequest{Map: api.Ref{Pinned: me + "/maps/jmp"}, Key: u32(uint32(k % 2)), ValueRef: &api.Ref{Pinned: next + "/to_tx"}}); err != nil {
							return err
						}
						if _, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: me + "/entry"}, DataIn: make([]byte, 64)}); err != nil {
							return err
						}
						if k == 10 {
							if err := d.Delete(api.MapRequest{Map: api.Ref{Pinned: me + "/maps/jmp"}, Key: u32(1)}); err != nil {
								return err
							}
						}
					}
					return nil
				}()
				updated.Done()
				if err != nil {
					return err
				}
				updated.Wait()
				// The next client's to_tx may go now; jmp[0] keeps it.
				for _, p := range []string{"/to_tx", "/to_drop", "/egress", "/on_cpu"} {
					if err := d.Unpin(me + p); err != nil {
						return err
					}
				}
				return nil
			}()
		}(i)
	}
	for i := 0; i < n; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		if got := runEntry(t, d, pins(i)+"/entry"); got != xdpTX {
			t.Fatalf("client %d: verdict %d, want the next client's to_tx", i, got)
		}
	}
	for i := 0; i < n; i++ {
		for _, p := range []string{"/entry", "/lookup_houter", "/maps/jmp", "/maps/inner", "/maps/outer", "/maps/houter", "/maps/result", "/maps/devs", "/maps/cpus"} {
			if err := d.Unpin(pins(i) + p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ps, ms := d.Programs(), d.Maps(); len(ps) != 0 || len(ms) != 0 {
		t.Fatalf("left after unpinning everything: %d programs, %d maps (a cycle of program arrays must not keep them)", len(ps), len(ms))
	}
	if ents, _ := os.ReadDir(filepath.Join(state, "units")); len(ents) != 0 {
		t.Fatalf("state left behind: %v", ents)
	}
}
