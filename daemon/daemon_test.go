package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/verifier"
)

func counterObject(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/counter.o")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

func newTestDaemon(t *testing.T, state string) *Daemon {
	t.Helper()
	d, err := New(Options{StateDir: state, Engine: "interp", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRestore loads, pins, updates, runs, then starts a second daemon on
// the same state directory without closing the first (as after SIGKILL):
// every acknowledged change is there.
func TestRestore(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	ctx := context.Background()
	res, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/bpf/counter", PinMaps: "/bpf/maps"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Programs) != 1 || len(res.Maps) != 2 {
		t.Fatalf("loaded %+v", res)
	}
	counts := api.Ref{Pinned: "/bpf/maps/counts"}
	for i := uint32(0); i < 10; i++ {
		if err := d.Update(api.MapRequest{Map: counts, Key: u32(i + 100), Value: u64(uint64(i) * 7)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Delete(api.MapRequest{Map: counts, Key: u32(103)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/bpf/counter"}, DataIn: make([]byte, 64), Repeat: 3}); err != nil {
		t.Fatal(err)
	}
	if err := d.Update(api.MapRequest{Map: counts, Key: u32(200), Value: u64(1)}); err != nil {
		t.Fatal(err)
	}
	want, err := d.Dump(api.MapRequest{Map: counts})
	if err != nil {
		t.Fatal(err)
	}
	wantTotal, err := d.Lookup(api.MapRequest{Map: api.Ref{Name: "total"}, Key: u32(0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.NativeEndian.Uint64(wantTotal.Entries[0].Value); got != 3 {
		t.Fatalf("total after 3 runs = %d", got)
	}

	// A second daemon cannot share the state directory.
	if _, err := New(Options{StateDir: state, Logger: slog.New(slog.DiscardHandler)}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("a second daemon on the same state: %v", err)
	}
	// The first one dies without closing anything: the kernel drops its
	// lock (here: its lock file is closed).
	d.lock.Close()
	d2 := newTestDaemon(t, state)
	defer d2.Close()
	got, err := d2.Dump(api.MapRequest{Map: counts})
	if err != nil {
		t.Fatal(err)
	}
	if !sameEntries(got.Entries, want.Entries) {
		t.Fatalf("after restart:\n got %v\nwant %v", got.Entries, want.Entries)
	}
	total, err := d2.Lookup(api.MapRequest{Map: api.Ref{Pinned: "/bpf/maps/total"}, Key: u32(0)})
	if err != nil || !bytes.Equal(total.Entries[0].Value, wantTotal.Entries[0].Value) {
		t.Fatalf("total after restart: %v, %v", total, err)
	}
	p, err := d2.Program(api.Ref{Pinned: "/bpf/counter"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "count_packets" || p.Type != "xdp" || len(p.MapIDs) != 2 {
		t.Fatalf("restored program %+v", p)
	}
	if p0, _ := d.Program(api.Ref{Pinned: "/bpf/counter"}); p0.LoadedAt != p.LoadedAt || p0.Tag != p.Tag {
		t.Fatalf("restored program %+v, loaded %+v", p, p0)
	}
	d.Close()
}

func sameEntries(a, b []api.Entry) bool {
	m := map[string]string{}
	for _, e := range a {
		m[string(e.Key)] = string(e.Value)
	}
	if len(a) != len(b) || len(m) != len(a) {
		return false
	}
	for _, e := range b {
		if v, ok := m[string(e.Key)]; !ok || v != string(e.Value) {
			return false
		}
	}
	return true
}

// TestUnpinLifetime: a map pinned apart outlives its program's unpin; the
// unit goes (with its state) when its last pin goes.
func TestUnpinLifetime(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Pin(api.Ref{Name: "counts"}, "/m", false); err != nil {
		t.Fatal(err)
	}
	if err := d.Pin(api.Ref{Name: "counts"}, "/m", false); CodeOf(err) != api.CodeExists {
		t.Fatalf("second pin at /m: %v", err)
	}
	if err := d.Unpin("/p"); err != nil {
		t.Fatal(err)
	}
	if len(d.Programs()) != 0 {
		t.Fatalf("program lives after its last unpin: %v", d.Programs())
	}
	if ms := d.Maps(); len(ms) != 1 || ms[0].Name != "counts" {
		t.Fatalf("maps after the program's unpin: %v", ms)
	}
	d.lock.Close()
	d2 := newTestDaemon(t, state)
	if len(d2.Programs()) != 0 || len(d2.Maps()) != 1 {
		t.Fatalf("restored %v %v", d2.Programs(), d2.Maps())
	}
	d2.Close()
	if err := d.Unpin("/m"); err != nil {
		t.Fatal(err)
	}
	if len(d.Maps()) != 0 {
		t.Fatal("map lives after its last unpin")
	}
	ents, _ := os.ReadDir(filepath.Join(state, "units"))
	if len(ents) != 0 {
		t.Fatalf("state left behind: %v", ents)
	}
	if err := d.Unpin("/m"); CodeOf(err) != api.CodeNotFound {
		t.Fatalf("unpin of a missing pin: %v", err)
	}
}

// TestBadRequests: bad input gets an error with the right code.
func TestBadRequests(t *testing.T) {
	d := newTestDaemon(t, "")
	defer d.Close()
	ctx := context.Background()
	obj := counterObject(t)
	for _, tc := range []struct {
		name string
		req  api.LoadRequest
		code string
	}{
		{"no object", api.LoadRequest{PinPath: "/x"}, api.CodeInvalid},
		{"garbage", api.LoadRequest{Object: []byte("not an elf"), PinPath: "/x"}, api.CodeInvalid},
		{"relative pin", api.LoadRequest{Object: obj, PinPath: "x"}, api.CodeInvalid},
		{"unclean pin", api.LoadRequest{Object: obj, PinPath: "/a/../x"}, api.CodeInvalid},
		{"no such program", api.LoadRequest{Object: obj, PinPath: "/x", Program: "nope"}, api.CodeNotFound},
	} {
		if _, err := d.Load(ctx, tc.req); CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want code %s", tc.name, err, tc.code)
		}
	}
	if _, err := d.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/x", PinMaps: "/maps"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/x"}); CodeOf(err) != api.CodeExists {
		t.Errorf("load at a taken pin: %v", err)
	}
	counts := api.Ref{Pinned: "/maps/counts"}
	for _, tc := range []struct {
		name string
		req  api.MapRequest
		code string
	}{
		{"short key", api.MapRequest{Map: counts, Key: []byte{1}, Value: u64(1)}, api.CodeInvalid},
		{"short value", api.MapRequest{Map: counts, Key: u32(1), Value: []byte{1}}, api.CodeInvalid},
		{"two refs", api.MapRequest{Map: api.Ref{ID: 1, Name: "x"}, Key: u32(1), Value: u64(1)}, api.CodeInvalid},
		{"no map", api.MapRequest{Map: api.Ref{ID: 999}, Key: u32(1), Value: u64(1)}, api.CodeNotFound},
		{"bad flags", api.MapRequest{Map: counts, Key: u32(1), Value: u64(1), Flags: 9}, api.CodeInvalid},
		{"exist flag, no key", api.MapRequest{Map: counts, Key: u32(1), Value: u64(1), Flags: 2}, api.CodeNotFound},
	} {
		if err := d.Update(tc.req); CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want code %s", tc.name, err, tc.code)
		}
	}
	if _, err := d.Lookup(api.MapRequest{Map: counts, Key: u32(77)}); !errors.Is(err, errKeyNotExist()) {
		t.Errorf("lookup of a missing key: %v", err)
	}
}

func errKeyNotExist() error { return bpfhostErrKeyNotExist }

var bpfhostErrKeyNotExist = bpfhost.ErrKeyNotExist

// TestUnpinWhileInUse: unpinning the last pin of an object while calls use
// its program and maps waits for them; they succeed or find it gone.
func TestUnpinWhileInUse(t *testing.T) {
	d := newTestDaemon(t, t.TempDir())
	defer d.Close()
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		if _, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p", PinMaps: "/m"}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					_, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/p"}, DataIn: make([]byte, 64), Repeat: 50})
					if err == nil {
						err = d.Update(api.MapRequest{Map: api.Ref{Pinned: "/m/counts"}, Key: u32(1), Value: u64(2)})
					}
					if CodeOf(err) == api.CodeNotFound {
						return
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for _, pin := range []string{"/m/counts", "/m/total", "/p"} {
			if err := d.Unpin(pin); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

// TestConcurrentLoadsOnePin: loads racing for one pin path (verified and
// created outside the daemon's lock): exactly one wins, and the others
// get EEXIST and leave nothing behind.
func TestConcurrentLoadsOnePin(t *testing.T) {
	d := newTestDaemon(t, t.TempDir())
	defer d.Close()
	obj := counterObject(t)
	var wg sync.WaitGroup
	codes := make(chan string, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.Load(context.Background(), api.LoadRequest{Object: obj, PinPath: "/same"})
			if err == nil {
				codes <- "ok"
			} else {
				codes <- CodeOf(err)
			}
		}()
	}
	wg.Wait()
	close(codes)
	n := map[string]int{}
	for c := range codes {
		n[c]++
	}
	if n["ok"] != 1 || n[api.CodeExists] != 7 {
		t.Fatalf("outcomes %v, want one ok and 7 %s", n, api.CodeExists)
	}
	if len(d.Programs()) != 1 || len(d.Maps()) != 2 || len(d.units) != 1 {
		t.Fatalf("%d programs, %d maps, %d units live", len(d.Programs()), len(d.Maps()), len(d.units))
	}
	if d.memUsed != d.units[firstUnit(d)].mem {
		t.Fatalf("memory charged %d, the live unit uses %d", d.memUsed, d.units[firstUnit(d)].mem)
	}
}

func firstUnit(d *Daemon) uint64 {
	for id := range d.units {
		return id
	}
	return 0
}

// TestXlated lists the loaded instructions with their source lines, in
// the kernel's syntax under the function's prototype, as bpftool does.
func TestXlated(t *testing.T) {
	d := newTestDaemon(t, "")
	defer d.Close()
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	insns, err := d.Xlated(api.Ref{Pinned: "/p"})
	if err != nil {
		t.Fatal(err)
	}
	if len(insns) < 10 || insns[0].Proto != "int count_packets(struct xdp_md * ctx)" || insns[0].Disasm != "(79) r2 = *(u64 *)(r1 +8)" || !strings.Contains(insns[0].Src, "ctx->data_end") {
		t.Fatalf("first instructions %+v", insns[:min(3, len(insns))])
	}
	last := insns[len(insns)-1]
	if last.Disasm != "(95) exit" {
		t.Fatalf("last instruction %+v", last)
	}
}

// TestPolicyLimits: programs over the instruction limit and objects whose
// maps exceed the memory budget are refused with E2BIG.
func TestPolicyLimits(t *testing.T) {
	ctx := context.Background()
	d, err := New(Options{MaxInstructions: 10, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); CodeOf(err) != api.CodeTooBig || !strings.Contains(err.Error(), "the limit is 10") {
		t.Fatalf("a 39-instruction program under a limit of 10: %v", err)
	}
	d2, err := New(Options{MapMemory: 20000, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if _, err := d2.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/b"}); CodeOf(err) != api.CodeTooBig {
		t.Fatalf("a second object over the map budget: %v", err)
	}
	if err := d2.Unpin("/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/b"}); err != nil {
		t.Fatalf("after the first object went, its memory is free again: %v", err)
	}
}

// TestLogCompaction: a map's log that outgrows its map is replaced by a
// snapshot, and the contents survive a restart all the same. Queues keep
// logs (hash maps and arrays keep memory files instead).
func TestLogCompaction(t *testing.T) {
	defer func(min, factor int64) { walCompactMin, walCompactFactor = min, factor }(walCompactMin, walCompactFactor)
	walCompactMin, walCompactFactor = 2000, 0
	state := t.TempDir()
	d := newTestDaemon(t, state)
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: queueObject(t), PinPath: "/p", PinMaps: "/m"}); err != nil {
		t.Fatal(err)
	}
	fifo := api.Ref{Pinned: "/m/fifo"}
	var m *mapObj
	for _, mo := range d.maps {
		if mo.m.Name() == "fifo" {
			m = mo
		}
	}
	limit := compactLimit(m.mem)
	for i := uint32(0); i < 400; i++ {
		if err := d.Push(api.MapRequest{Map: fifo, Value: u32(i)}); err != nil {
			t.Fatal(err)
		}
		if i < 398 {
			mustPop(t, d, fifo, i)
		}
		if m.wal.size > limit {
			t.Fatalf("log of %d bytes, over the compaction limit %d", m.wal.size, limit)
		}
	}
	d.lock.Close()
	d2 := newTestDaemon(t, state)
	defer d2.Close()
	for _, v := range []uint32{398, 399} {
		mustPop(t, d2, fifo, v)
	}
	if _, err := d2.Pop(fifo); CodeOf(err) != api.CodeNotFound {
		t.Fatalf("after compaction and restart, a third value: %v", err)
	}
	d.Close()
}

// TestRestoreMigratesLogs: a state directory written by a daemon that kept
// hash maps in logs (no memory file) comes back with the log's contents,
// now in a memory file, and the log is gone.
func TestRestoreMigratesLogs(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/p", PinMaps: "/m"}); err != nil {
		t.Fatal(err)
	}
	counts := api.Ref{Pinned: "/m/counts"}
	if err := d.Update(api.MapRequest{Map: counts, Key: u32(1), Value: u64(5)}); err != nil {
		t.Fatal(err)
	}
	mem, err := filepath.Glob(filepath.Join(state, "units", "*", "mem", "counts"))
	if err != nil || len(mem) != 1 {
		t.Fatalf("memory file of counts: %v %v", mem, err)
	}
	unitDir := filepath.Dir(filepath.Dir(mem[0]))
	if _, err := os.Stat(filepath.Join(unitDir, "maps", "counts")); !os.IsNotExist(err) {
		t.Fatalf("counts has a log next to its memory file: %v", err)
	}
	d.lock.Close()
	// What an older daemon left: a log and no memory file.
	os.Remove(mem[0])
	log := appendRecord(nil, walRecord{op: walClear})
	log = appendRecord(log, walRecord{op: walUpdate, key: u32(7), value: u64(9)})
	if err := os.WriteFile(filepath.Join(unitDir, "maps", "counts"), log, 0o600); err != nil {
		t.Fatal(err)
	}
	d2 := newTestDaemon(t, state)
	got, err := d2.Dump(api.MapRequest{Map: counts})
	if err != nil || !sameEntries(got.Entries, []api.Entry{{Key: u32(7), Value: u64(9)}}) {
		t.Fatalf("after migrating: %v, %v", got.Entries, err)
	}
	if _, err := os.Stat(filepath.Join(unitDir, "maps", "counts")); !os.IsNotExist(err) {
		t.Fatalf("the log is still there after migrating: %v", err)
	}
	d2.lock.Close()
	d3 := newTestDaemon(t, state)
	defer d3.Close()
	if got, err := d3.Dump(api.MapRequest{Map: counts}); err != nil || !sameEntries(got.Entries, []api.Entry{{Key: u32(7), Value: u64(9)}}) {
		t.Fatalf("restarted after migrating: %v, %v", got.Entries, err)
	}
	d.Close()
	d2.Close()
}

// TestFreeze: a frozen map refuses writes from user space, also after a
// restart; programs still write it.
func TestFreeze(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p", PinMaps: "/m"}); err != nil {
		t.Fatal(err)
	}
	total := api.Ref{Pinned: "/m/total"}
	if err := d.Freeze(total); err != nil {
		t.Fatal(err)
	}
	if err := d.Freeze(total); CodeOf(err) != api.CodeBusy {
		t.Fatalf("second freeze: %v", err)
	}
	if err := d.Update(api.MapRequest{Map: total, Key: u32(0), Value: u64(9)}); CodeOf(err) != api.CodePerm {
		t.Fatalf("update of a frozen map: %v", err)
	}
	d.lock.Close()
	d2 := newTestDaemon(t, state)
	defer d2.Close()
	if err := d2.Update(api.MapRequest{Map: total, Key: u32(0), Value: u64(9)}); CodeOf(err) != api.CodePerm {
		t.Fatalf("update of a frozen map after a restart: %v", err)
	}
	if info, _ := d2.Map(total); info.Frozen != 1 {
		t.Fatalf("restored map %+v", info)
	}
	if _, err := d2.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/p"}, DataIn: make([]byte, 64)}); err != nil {
		t.Fatal(err)
	}
	if v, _ := d2.Lookup(api.MapRequest{Map: total, Key: u32(0)}); binary.NativeEndian.Uint64(v.Entries[0].Value) != 1 {
		t.Fatalf("the program's write to a frozen map: %x", v.Entries[0].Value)
	}
	d.Close()
}

// TestMetrics: the Prometheus text counts runs, entries, operations and
// refused loads.
func TestMetrics(t *testing.T) {
	d := newTestDaemon(t, "")
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p", PinMaps: "/m"}); err != nil {
		t.Fatal(err)
	}
	d.Load(ctx, api.LoadRequest{Object: []byte("junk"), PinPath: "/q"})
	d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/p"}, DataIn: make([]byte, 64), Repeat: 3})
	d.Update(api.MapRequest{Map: api.Ref{Pinned: "/m/counts"}, Key: u32(9), Value: u64(1)})
	d.Lookup(api.MapRequest{Map: api.Ref{Pinned: "/m/counts"}, Key: u32(9)})
	var b bytes.Buffer
	if err := d.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`bpfhost_prog_runs_total{id="3",name="count_packets"} 3`,
		`bpfhost_map_entries{id="1",name="counts"} 2`,
		`bpfhost_map_entries{id="2",name="total"} 1`,
		`bpfhost_map_operations_total{id="1",name="counts",op="update"} 1`,
		`bpfhost_map_operations_total{id="1",name="counts",op="lookup"} 1`,
		`bpfhost_loads_refused_total{reason="EINVAL"} 1`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("metrics lack %s:\n%s", want, b.String())
		}
	}
}

// TestRestoreVerifies: restoring runs the verifier (the child, in the
// daemon) on stored objects; one it rejects is left out and kept on disk.
func TestRestoreVerifies(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	d.lock.Close()
	calls := 0
	d2, err := New(Options{StateDir: state, Logger: slog.New(slog.DiscardHandler), Verify: func(ctx context.Context, req VerifyRequest) (*Verdict, error) {
		calls++
		return nil, errorf(api.CodeRejected, "verifier crashed")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || len(d2.Programs()) != 0 {
		t.Fatalf("%d verifications, %d programs restored", calls, len(d2.Programs()))
	}
	d2.Close()
	d3 := newTestDaemon(t, state)
	defer d3.Close()
	if len(d3.Programs()) != 1 {
		t.Fatal("the refused unit was not kept for a later start")
	}
	d.Close()
}

// TestRunContext passes a context structure in and reads it back, and
// returns the packet.
func TestRunContext(t *testing.T) {
	d := newTestDaemon(t, "")
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	pkt := append([]byte{9}, make([]byte, 63)...)
	xdpMD := make([]byte, 24)
	binary.NativeEndian.PutUint32(xdpMD[4:], 64) // data_end
	res, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/p"}, DataIn: pkt, CtxIn: xdpMD, WantCtxOut: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Retval != 2 || !bytes.Equal(res.DataOut, pkt) || len(res.CtxOut) != 24 {
		t.Fatalf("run: %+v", res)
	}
	if _, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/p"}, DataIn: pkt, CtxIn: []byte{1, 2, 3}}); CodeOf(err) != api.CodeInvalid {
		t.Fatalf("a 3-byte context: %v", err)
	}
	if p, _ := d.Program(api.Ref{Pinned: "/p"}); p.RunCnt != 1 {
		t.Fatalf("run count %d after one good run", p.RunCnt)
	}
}

// TestLoadVerifiesOnce loads through a verifier (the child's code, run in
// this process so that verifier.Runs counts it) and checks that the
// program is verified exactly once: the load uses the verifier's verdict
// and does not verify again. A verdict on another request is refused.
func TestLoadVerifiesOnce(t *testing.T) {
	calls := 0
	d, err := New(Options{Engine: "interp", Logger: slog.New(slog.DiscardHandler), Verify: func(ctx context.Context, req VerifyRequest) (*Verdict, error) {
		calls++
		return InProcessVerifier(ctx, req)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	before := verifier.Runs()
	if _, err := d.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	if runs := verifier.Runs() - before; calls != 1 || runs != 1 {
		t.Fatalf("%d verifier calls and %d verifications for one program, want 1 and 1", calls, runs)
	}
	pkt := append([]byte{5}, make([]byte, 63)...)
	if res, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/p"}, DataIn: pkt}); err != nil || res.Retval != 2 {
		t.Fatalf("run: %+v, %v", res, err)
	}

	// A verdict on other bytes is not used.
	other, err := New(Options{Engine: "interp", Logger: slog.New(slog.DiscardHandler), Verify: func(ctx context.Context, req VerifyRequest) (*Verdict, error) {
		req.Type = "sched_cls"
		v, err := InProcessVerifier(ctx, VerifyRequest{Object: req.Object, Programs: req.Programs})
		if v != nil {
			v.Digest = RequestDigest(req)
		}
		return v, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); CodeOf(err) != api.CodeRejected {
		t.Fatalf("a verdict on another request: %v", err)
	}
}

// TestRestoreVerifiesOnce: restoring a unit verifies each of its programs
// once, in the verifier (Options.Verify), and the collection uses that
// verdict instead of verifying again; a verdict on another request
// rejects the restore.
func TestRestoreVerifiesOnce(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/p", PinMaps: "/m"}); err != nil {
		t.Fatal(err)
	}
	d.lock.Close()
	defer d.Close()
	calls := 0
	before := verifier.Runs()
	d2, err := New(Options{StateDir: state, Engine: "interp", Logger: slog.New(slog.DiscardHandler), Verify: func(ctx context.Context, req VerifyRequest) (*Verdict, error) {
		calls++
		return InProcessVerifier(ctx, req)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if runs := verifier.Runs() - before; calls != 1 || runs != 1 || len(d2.Programs()) != 1 {
		t.Fatalf("restoring one program: %d verifier calls, %d verifications, %d programs; want 1, 1, 1", calls, runs, len(d2.Programs()))
	}
	if res, err := d2.Run(context.Background(), api.RunRequest{Prog: api.Ref{Pinned: "/p"}, DataIn: make([]byte, 64)}); err != nil || res.Retval != 2 {
		t.Fatalf("run after restoring: %+v, %v", res, err)
	}
	d2.lock.Close()
	defer d2.Close()
	d3, err := New(Options{StateDir: state, Engine: "interp", Logger: slog.New(slog.DiscardHandler), Verify: func(ctx context.Context, req VerifyRequest) (*Verdict, error) {
		v, err := InProcessVerifier(ctx, req)
		if v != nil {
			v.Digest = RequestDigest(VerifyRequest{Object: req.Object, Type: "sched_cls", Programs: req.Programs})
		}
		return v, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d3.Close()
	if len(d3.Programs()) != 0 {
		t.Fatal("restored with a verdict on another request")
	}
}

// TestProgramByTag: a program is found by its tag as bpftool takes it, in
// either case; a tag that no program has, or a tag naming a map, is an
// error.
func TestProgramByTag(t *testing.T) {
	d := newTestDaemon(t, "")
	defer d.Close()
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	byPin, err := d.Program(api.Ref{Pinned: "/p"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byPin.Tag) != 16 {
		t.Fatalf("tag %q: want 16 hexadecimal digits", byPin.Tag)
	}
	byTag, err := d.Program(api.Ref{Tag: strings.ToUpper(byPin.Tag)})
	if err != nil || byTag.ID != byPin.ID {
		t.Fatalf("by tag: %+v, %v; want id %d", byTag, err, byPin.ID)
	}
	if _, err := d.Program(api.Ref{Tag: "0000000000000000"}); CodeOf(err) != api.CodeNotFound {
		t.Fatalf("unknown tag: %v, want %s", err, api.CodeNotFound)
	}
	if _, err := d.Program(api.Ref{Tag: byPin.Tag, Name: "x"}); CodeOf(err) != api.CodeInvalid {
		t.Fatalf("tag and name: %v, want %s", err, api.CodeInvalid)
	}
	if _, err := d.Lookup(api.MapRequest{Map: api.Ref{Tag: byPin.Tag}, Key: u32(0)}); CodeOf(err) != api.CodeInvalid {
		t.Fatalf("a tag naming a map: %v, want %s", err, api.CodeInvalid)
	}
}
