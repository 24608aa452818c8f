package bpfhost_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
)

// TestParseEngine checks the engine registry: every listed engine parses
// (ignoring case), an unknown name lists the valid ones, and NewCollection
// refuses it the same way.
func TestParseEngine(t *testing.T) {
	if got := bpfhost.EngineNames(); got != "interp or jit" {
		t.Errorf("EngineNames() = %q", got)
	}
	for _, e := range bpfhost.Engines() {
		for _, name := range []string{string(e), strings.ToUpper(string(e))} {
			if got, err := bpfhost.ParseEngine(name); err != nil || got != e {
				t.Errorf("ParseEngine(%q) = %q, %v; want %q", name, got, err, e)
			}
		}
	}
	for _, name := range []string{"", "wasm", "jit "} {
		if _, err := bpfhost.ParseEngine(name); err == nil || !strings.Contains(err.Error(), "want interp or jit") {
			t.Errorf("ParseEngine(%q): %v; want an error listing the engines", name, err)
		}
	}
	spec := &bpfhost.CollectionSpec{}
	for _, e := range []bpfhost.Engine{"wasm", "JIT"} {
		if _, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: e}); err == nil || !strings.Contains(err.Error(), "want interp or jit") {
			t.Errorf("NewCollection with engine %q: %v; want refused", e, err)
		}
		if err := e.Available(); err == nil {
			t.Errorf("%q.Available() = nil", e)
		}
	}
	if err := bpfhost.EngineInterp.Available(); err != nil {
		t.Errorf("interp unavailable: %v", err)
	}
}

// TestRawProgram runs bare instructions on each engine: r1 and r2 describe
// the memory, helpers are called by ID, checked runs refuse an access past
// the memory, and a closed program refuses to run.
func TestRawProgram(t *testing.T) {
	insns, err := isa.Assemble(`
		ldxb %r0, [%r1+1]
		mov %r6, %r2
		mov %r1, %r0
		call 5
		add %r0, %r6
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	oob, err := isa.Assemble(`
		ldxw %r0, [%r1+8]
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	double := map[int32]func(r1, r2, r3, r4, r5 uint64) (uint64, error){
		5: func(r1, _, _, _, _ uint64) (uint64, error) { return 2 * r1, nil },
	}
	for _, e := range bpfhost.Engines() {
		if e.Available() != nil {
			continue
		}
		p, err := bpfhost.NewRawProgram(insns, &bpfhost.RawOptions{Engine: e, Helpers: double})
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		res, err := p.Run([]byte{1, 20, 3}, 0)
		if err != nil || res.R0 != 2*20+3 || res.Executed != 6 {
			t.Errorf("%s: %+v, %v; want r0 43 after 6 instructions", e, res, err)
		}
		if p.Mode() != "checked" {
			t.Errorf("%s: mode %q, want checked", e, p.Mode())
		}
		p.Close()
		if _, err := p.Run(nil, 0); !errors.Is(err, bpfhost.ErrInvalid) {
			t.Errorf("%s: run after Close: %v", e, err)
		}
		if _, err := bpfhost.NewRawProgram(insns, &bpfhost.RawOptions{Engine: e}); err == nil {
			t.Errorf("%s: helper 5 without Helpers compiled", e)
		}
		q, err := bpfhost.NewRawProgram(oob, &bpfhost.RawOptions{Engine: e})
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		if res, err := q.Run(make([]byte, 8), 0); err == nil {
			t.Errorf("%s: a load past the memory gave %+v; want a fault", e, res)
		}
		q.Close()
	}
}

// TestMapTypeNames checks the root map types against the names and per-CPU
// facts of platform/linux's table.
func TestMapTypeNames(t *testing.T) {
	for _, tc := range []struct {
		t      bpfhost.MapType
		name   string
		perCPU bool
	}{
		{bpfhost.MapHash, "hash", false}, {bpfhost.MapPerCPUArray, "percpu_array", true},
		{bpfhost.MapLRUPerCPUHash, "lru_percpu_hash", true}, {bpfhost.MapRingBuf, "ringbuf", false},
		{bpfhost.MapType(7), "stack_trace", false}, {bpfhost.MapType(1000), "map_type#1000", false},
	} {
		if tc.t.String() != tc.name || tc.t.PerCPU() != tc.perCPU {
			t.Errorf("type %d: %q, per-CPU %v; want %q, %v", uint32(tc.t), tc.t, tc.t.PerCPU(), tc.name, tc.perCPU)
		}
	}
}

// TestEngineNamesMatchVMs checks that the registry's names are the names
// the engines give themselves (vm.Engine.Name), which Program.Engine
// reports.
func TestEngineNamesMatchVMs(t *testing.T) {
	spec := &bpfhost.CollectionSpec{Programs: []*bpfhost.ProgramSpec{{Name: "p", Section: "bpfhost", License: "GPL",
		Instructions: mustAssemble(t, "mov %r0, 0\nexit")}}}
	for _, e := range bpfhost.Engines() {
		if e.Available() != nil {
			continue
		}
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: e})
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		if got := coll.Programs["p"].Engine(); got != e {
			t.Errorf("engine %s runs the program on %q", e, got)
		}
		coll.Close()
	}
}

func mustAssemble(t *testing.T, src string) []isa.Instruction {
	t.Helper()
	insns, err := isa.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return insns
}
