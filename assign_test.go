package bpfhost

import (
	"errors"
	"testing"
)

// firewallObjects is what bpf2go would generate for examples/firewall.o,
// with a nested struct as bpf2go's Programs and Maps are.
type firewallObjects struct {
	firewallPrograms
	Maps struct {
		Drops *Map `ebpf:"drops"`
		Stats *Map `ebpf:"proto_stats"`
	}
	Ignored int
}

type firewallPrograms struct {
	Firewall *Program `ebpf:"xdp_firewall"`
}

// TestLoadAndAssign checks cilium/ebpf's LoadAndAssign lifecycle: the
// assigned objects work, each Close ends only its object, and the last one
// closes the collection (which held the maps nobody asked for).
func TestLoadAndAssign(t *testing.T) {
	spec, err := LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	var objs firewallObjects
	if err := LoadAndAssign(spec, &objs, nil); err != nil {
		t.Fatal(err)
	}
	if objs.Firewall == nil || objs.Maps.Drops == nil || objs.Maps.Stats == nil {
		t.Fatalf("not assigned: %+v", objs)
	}
	coll := objs.Firewall.coll
	if err := objs.Maps.Drops.Put(uint32(1), uint64(5)); err != nil {
		t.Fatal(err)
	}
	if err := objs.Maps.Stats.Close(); err != nil {
		t.Errorf("closing an assigned map: %v", err)
	}
	if err := objs.Maps.Stats.Lookup(uint32(0), new([]byte)); !errors.Is(err, ErrClosed) {
		t.Errorf("lookup in a closed assigned map: %v, want ErrClosed", err)
	}
	if err := objs.Maps.Stats.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := objs.Firewall.Close(); err != nil {
		t.Fatal(err)
	}
	if coll.closed.Load() {
		t.Fatal("collection closed while an assigned map is open")
	}
	var n uint64
	if err := objs.Maps.Drops.Lookup(uint32(1), &n); err != nil || n != 5 {
		t.Errorf("the last open map: %d, %v", n, err)
	}
	if err := objs.Maps.Drops.Close(); err != nil {
		t.Fatal(err)
	}
	if !coll.closed.Load() {
		t.Error("collection still open after every assigned object was closed")
	}
	if len(coll.Programs) != 1 {
		t.Errorf("loaded programs %d, want only the one named", len(coll.Programs))
	}
}

// TestAssignErrors checks that a struct LoadAndAssign or Assign cannot fill
// is an error that sets no field and leaves no collection open.
func TestAssignErrors(t *testing.T) {
	spec, err := LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	type missing struct {
		P *Program `ebpf:"xdp_firewall"`
		M *Map     `ebpf:"no_such_map"`
	}
	type twice struct {
		A *Map `ebpf:"drops"`
		B *Map `ebpf:"drops"`
	}
	type unexported struct {
		m *Map `ebpf:"drops"`
	}
	type wrongType struct {
		M *Program `ebpf:"drops"`
	}
	type badKind struct {
		M uint32 `ebpf:"drops"`
	}
	type nilPtr struct {
		Inner *struct {
			M *Map `ebpf:"drops"`
		}
	}
	live := func() int {
		n := 0
		livePools.Range(func(_, _ any) bool { n++; return true })
		return n
	}
	before := live()
	var noStructPtr firewallObjects
	for name, to := range map[string]any{
		"missing map": &missing{}, "twice": &twice{}, "unexported": &unexported{},
		"wrong type": &wrongType{}, "bad kind": &badKind{}, "nil pointer": &nilPtr{},
		"not a pointer": noStructPtr, "nil": (*firewallObjects)(nil), "untyped nil": nil,
	} {
		if err := LoadAndAssign(spec, to, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	m := &missing{}
	_ = LoadAndAssign(spec, m, nil)
	if m.P != nil {
		t.Error("a field was set although LoadAndAssign failed")
	}
	// Only this test opens collections now (no test of the package runs
	// in parallel with it); a leaked one stays in livePools.
	if n := live(); n > before {
		t.Errorf("%d collections open after failed LoadAndAssign calls, want %d", n, before)
	}

	coll, err := NewCollection(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	var objs firewallObjects
	if err := coll.Assign(&objs); err != nil || objs.Firewall != coll.Programs["xdp_firewall"] || objs.Maps.Drops != coll.Maps["drops"] {
		t.Errorf("Assign: %v", err)
	}
	if err := coll.Assign(&missing{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Assign of a missing map: %v", err)
	}
	whole, err := LoadCollection("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	if err := whole.Assign(&objs); err != nil || objs.Firewall != whole.Programs["xdp_firewall"] {
		t.Errorf("Assign from LoadCollection: %v", err)
	}
	if _, err := LoadCollection("examples/no-such.o"); err == nil {
		t.Error("LoadCollection of a missing file: no error")
	}
	coll.Close()
	if err := coll.Assign(&objs); !errors.Is(err, ErrClosed) {
		t.Errorf("Assign after Close: %v", err)
	}
}

// TestLoadAndAssignConcurrentClose closes the assigned objects from several
// goroutines at once, each twice: whatever the order,
// the collection closes exactly when the last one is closed (run with
// -race).
func TestLoadAndAssignConcurrentClose(t *testing.T) {
	spec, err := LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 20; round++ {
		var objs firewallObjects
		if err := LoadAndAssign(spec, &objs, &CollectionOptions{Slots: 2}); err != nil {
			t.Fatal(err)
		}
		coll := objs.Firewall.coll
		closers := []func() error{objs.Firewall.Close, objs.Maps.Drops.Close, objs.Maps.Stats.Close}
		done := make(chan error, 2*len(closers))
		for _, c := range append(closers, closers...) {
			go func() { done <- c() }()
		}
		for range 2 * len(closers) {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if !coll.closed.Load() {
			t.Fatal("collection open after every object was closed")
		}
	}
}
