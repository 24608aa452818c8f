package helpers

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// TestTailCallLimit runs a program that counts its runs and tail-calls
// itself: Linux allows 33 tail calls, so it runs 34 times.
func TestTailCallLimit(t *testing.T) {
	host := newHost()
	counts, _ := maps.New(maps.Spec{Name: "counts", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}, 1)
	progs, _ := maps.New(maps.Spec{Name: "progs", Type: maps.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}, 1)
	src := fmt.Sprintf(`
		mov %%r6, %%r1
		stw [%%r10-4], 0
		lddw %%r1, %#x
		mov %%r2, %%r10
		add %%r2, -4
		call 1
		jeq %%r0, 0, done
		mov %%r1, 1
		lock add [%%r0+0], %%r1
		mov %%r1, %%r6
		lddw %%r2, %#x
		mov %%r3, 0
		call 12
		exit
	done:
		mov %%r0, -1
		exit`, host.add(counts), host.add(progs))
	exe := compile(t, src, host, vm.Checked)
	if err := progs.(maps.HandleMap).SetHandle(u32(0), exe, maps.UpdateAny); err != nil {
		t.Fatal(err)
	}
	ctx := make([]byte, 8)
	rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("values", counts.(maps.ElemMap).ValueMemory(), true)}}
	rc.Args[0] = addr(ctx)
	got, err := vm.Run(exe, rc)
	if err != nil {
		t.Fatal(err)
	}
	// The last run's tail call fails and the program goes on.
	if int64(got) != e2BIG {
		t.Errorf("r0 = %d, want -E2BIG from the failed tail call", int64(got))
	}
	out := make([]byte, 8)
	if err := counts.Lookup(u32(0), out); err != nil {
		t.Fatal(err)
	}
	if n := out[0]; n != vm.MaxTailCalls+1 {
		t.Errorf("program ran %d times, want %d", n, vm.MaxTailCalls+1)
	}
	if rc.TailCalls != vm.MaxTailCalls {
		t.Errorf("rc.TailCalls = %d", rc.TailCalls)
	}
	if rc.Args[0] != addr(ctx) {
		t.Errorf("r1 of the tail-called program = %#x, want the context", rc.Args[0])
	}
}

func TestTailCallErrors(t *testing.T) {
	e := newEnv(t, vm.Checked)
	progs, pp := e.newMap(maps.Spec{Name: "progs", Type: maps.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}, 1)
	target := compile(t, "mov %r0, 1\nexit", e.host, vm.Checked)
	if err := progs.(maps.HandleMap).SetHandle(u32(0), target, maps.UpdateAny); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		index  uint64
		calls  int
		want   int64
		counts int
		taken  bool
	}{
		{"taken", 0, 0, 0, 1, true},
		{"out of range: not counted", 2, 5, eNOENT, 5, false},
		{"index is u32", 1<<32 | 0, 0, 0, 1, true},
		{"empty slot: counted", 1, 5, eNOENT, 6, false},
		{"limit", 0, vm.MaxTailCalls, e2BIG, vm.MaxTailCalls, false},
		{"last allowed", 0, vm.MaxTailCalls - 1, 0, vm.MaxTailCalls, true},
	} {
		e.rc.TailCall, e.rc.TailCalls = nil, tt.calls
		r := e.mustCall(linux.FnTailCall, 0x1000, pp, tt.index)
		if r != tt.want || e.rc.TailCalls != tt.counts || (e.rc.TailCall != nil) != tt.taken {
			t.Errorf("%s: = %d, count %d, taken %v", tt.name, r, e.rc.TailCalls, e.rc.TailCall != nil)
		}
		if tt.taken && e.rc.Args[0] != 0x1000 {
			t.Errorf("%s: r1 = %#x", tt.name, e.rc.Args[0])
		}
	}
	_, ap := e.newMap(maps.Spec{Name: "a", Type: maps.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}, 1)
	if _, err := e.call(linux.FnTailCall, 0, ap, 0); !errors.Is(err, ErrNotAMap) {
		t.Errorf("tail call through an array: %v", err)
	}
}
