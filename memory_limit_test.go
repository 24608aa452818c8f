package bpfhost_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/maps"
)

// securityResources returns the path of a reproducer in
// ../shared/security/resources, skipping the test where it is absent.
func securityResources(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "shared", "security", "resources", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not available: %v", p, err)
	}
	return p
}

func arraySpec(name string, entries uint32) *bpfhost.MapSpec {
	return &bpfhost.MapSpec{Name: name, Type: uint32(maps.Array), KeySize: 4, ValueSize: 1, MaxEntries: entries}
}

// TestMemoryLimit checks F5: a collection's maps are charged to one budget
// before any is created, and the map that goes over is named.
func TestMemoryLimit(t *testing.T) {
	// 3 arrays of 1M one-byte values: 12 MB each (8-byte stride + key).
	spec := &bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{arraySpec("a", 1<<20), arraySpec("b", 1<<20), arraySpec("c", 1<<20)}}
	each := maps.Memory(maps.Spec{Type: maps.Array, KeySize: 4, ValueSize: 1, MaxEntries: 1 << 20}, 1)
	for _, tc := range []struct {
		limit int64
		fail  string // the map named, "" for success
	}{
		{limit: int64(3 * each)},
		{limit: int64(3*each - 1), fail: "c"},
		{limit: int64(each) + 1, fail: "b"},
		{limit: 1, fail: "a"},
		{limit: -1},
		{limit: 0}, // DefaultMemoryLimit
	} {
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Slots: 1, MemoryLimit: tc.limit})
		if tc.fail == "" {
			if err != nil {
				t.Errorf("limit %d: %v", tc.limit, err)
				continue
			}
			coll.Close()
			continue
		}
		if err == nil {
			coll.Close()
			t.Errorf("limit %d: created; want map %q over the budget", tc.limit, tc.fail)
			continue
		}
		if !errors.Is(err, bpfhost.ErrMemoryLimit) || !errors.Is(err, maps.ErrNoMemory) || !strings.Contains(err.Error(), `map "`+tc.fail+`"`) {
			t.Errorf("limit %d: %v; want ErrMemoryLimit naming map %q", tc.limit, err, tc.fail)
		}
	}
}

// TestMemoryLimitManyArrays is F5's reproducer: 16 arrays, each under the
// per-map cap, fail with the default budget instead of taking 16 GiB.
func TestMemoryLimitManyArrays(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec(securityResources(t, "f5_manyarr16.o"))
	if err != nil {
		t.Fatal(err)
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	coll, err := bpfhost.NewCollection(spec, nil)
	if err == nil {
		coll.Close()
		t.Fatal("f5_manyarr16.o: collection created; want the memory budget to refuse it")
	}
	if !errors.Is(err, bpfhost.ErrMemoryLimit) || !strings.Contains(err.Error(), `map "m1"`) {
		t.Fatalf("f5_manyarr16.o: %v; want ErrMemoryLimit naming map m1", err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("refusing the collection allocated %d bytes", grew)
	}
}

// TestSlotsCappedAtGOMAXPROCS checks F10: with more processors than maps
// allow slots for, a collection gets maps.MaxSlots slots instead of
// failing every map.
func TestSlotsCappedAtGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(maps.MaxSlots + 904))
	spec := &bpfhost.CollectionSpec{Maps: []*bpfhost.MapSpec{
		{Name: "pc", Type: uint32(maps.PerCPUArray), KeySize: 4, ValueSize: 8, MaxEntries: 4},
	}}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		t.Fatalf("GOMAXPROCS %d: %v", runtime.GOMAXPROCS(0), err)
	}
	defer coll.Close()
	if got := coll.Maps["pc"].Slots(); got != maps.MaxSlots {
		t.Errorf("per-CPU map has %d slots, want %d", got, maps.MaxSlots)
	}
	if _, err := maps.New(maps.Spec{Name: "direct", Type: maps.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1}, 0); err != nil {
		t.Errorf("maps.New with default slots: %v", err)
	}
	if _, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Slots: maps.MaxSlots + 1}); err == nil || !strings.Contains(err.Error(), "execution slots") {
		t.Errorf("explicit Slots over the cap: %v; want an error", err)
	}
}

// TestRunContext checks RunOptions.Ctx: a run stops at its deadline on both
// engines, and a canceled context does not start one.
func TestRunContext(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("testdata/cli/nestloop.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range []string{"interp", "jit"} {
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
