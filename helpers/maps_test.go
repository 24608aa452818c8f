package helpers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func TestMapElemHelpers(t *testing.T) {
	for _, typ := range []maps.Type{maps.Array, maps.Hash, maps.LRUHash, maps.PerCPUArray, maps.PerCPUHash} {
		t.Run(typ.String(), func(t *testing.T) {
			e := newEnv(t, vm.Checked)
			e.rc.Slot = 1
			m, mp := e.newMap(maps.Spec{Name: "m", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 4}, 2)
			buf, base := e.mem("stack-like", 64, true)
			key, val := base, base+8
			copy(buf[0:], u32(2))
			copy(buf[8:], u64(0xabcdef))
			isArray := typ == maps.Array || typ == maps.PerCPUArray

			// Lookup of a missing key: hash maps have none, arrays zero.
			p := e.mustCall(linux.FnMapLookupElem, mp, key)
			if isArray != (p != 0) {
				t.Fatalf("lookup before update = %#x", p)
			}
			if r := e.mustCall(linux.FnMapUpdateElem, mp, key, val, uint64(maps.UpdateAny)); r != 0 {
				t.Fatalf("update = %d", r)
			}
			p = e.mustCall(linux.FnMapLookupElem, mp, key)
			if p == 0 || *(*uint64)(vm.Pointer(uint64(p))) != 0xabcdef {
				t.Fatalf("lookup after update = %#x", p)
			}
			// Per-CPU maps: the value belongs to slot 1 only.
			if typ.PerCPU() {
				out := make([]byte, 16)
				if err := m.Lookup(u32(2), out); err != nil {
					t.Fatal(err)
				}
				if binary.NativeEndian.Uint64(out) != 0 || binary.NativeEndian.Uint64(out[8:]) != 0xabcdef {
					t.Errorf("per-CPU values %x, want slot 1 set", out)
				}
				other := e.mustCall(linux.FnMapLookupPercpuElem, mp, key, 0)
				if other == 0 || *(*uint64)(vm.Pointer(uint64(other))) != 0 {
					t.Errorf("lookup_percpu_elem(cpu 0) = %#x", other)
				}
				if r := e.mustCall(linux.FnMapLookupPercpuElem, mp, key, 2); r != 0 {
					t.Errorf("lookup_percpu_elem(cpu 2) = %#x, want NULL", r)
				}
			}
			// BPF_NOEXIST on an existing key.
			if r := e.mustCall(linux.FnMapUpdateElem, mp, key, val, uint64(maps.UpdateNoExist)); r != int64(maps.EEXIST.Ret()) {
				t.Errorf("update NOEXIST = %d, want -EEXIST", r)
			}
			// Bad flags.
			if r := e.mustCall(linux.FnMapUpdateElem, mp, key, val, 8); r != int64(maps.EINVAL.Ret()) {
				t.Errorf("update flags 8 = %d, want -EINVAL", r)
			}
			// Delete: arrays refuse, hash maps remove then report ENOENT.
			r := e.mustCall(linux.FnMapDeleteElem, mp, key)
			if isArray {
				if r != int64(maps.EINVAL.Ret()) {
					t.Errorf("array delete = %d, want -EINVAL", r)
				}
			} else {
				if r != 0 {
					t.Errorf("delete = %d", r)
				}
				if r := e.mustCall(linux.FnMapDeleteElem, mp, key); r != int64(maps.ENOENT.Ret()) {
					t.Errorf("second delete = %d, want -ENOENT", r)
				}
			}
			// Out-of-range array index.
			copy(buf[0:], u32(9))
			if isArray {
				if r := e.mustCall(linux.FnMapUpdateElem, mp, key, val, 0); r != int64(maps.E2BIG.Ret()) {
					t.Errorf("update index 9 = %d, want -E2BIG", r)
				}
			}
			if r := e.mustCall(linux.FnMapLookupElem, mp, key); r != 0 {
				t.Errorf("lookup index 9 = %#x, want NULL", r)
			}
			if !typ.PerCPU() {
				if _, err := e.call(linux.FnMapLookupPercpuElem, mp, key, 0); !errors.Is(err, ErrNotAMap) {
					t.Errorf("lookup_percpu_elem on %s, checked: %v, want ErrNotAMap", typ, err)
				}
				e.rc.Mode = vm.Trusted
				if r := e.mustCall(linux.FnMapLookupPercpuElem, mp, key, 0); r != 0 {
					t.Errorf("lookup_percpu_elem on %s, trusted = %#x, want NULL", typ, r)
				}
			}
		})
	}
}

func TestQueueHelpers(t *testing.T) {
	e := newEnv(t, vm.Checked)
	_, qp := e.newMap(maps.Spec{Name: "q", Type: maps.Queue, ValueSize: 4, MaxEntries: 2}, 1)
	_, sp := e.newMap(maps.Spec{Name: "s", Type: maps.Stack, ValueSize: 4, MaxEntries: 2}, 1)
	_, bp := e.newMap(maps.Spec{Name: "b", Type: maps.BloomFilter, ValueSize: 4, MaxEntries: 16}, 1)
	buf, v := e.mem("value", 4, true)
	set := func(x uint32) { copy(buf, u32(x)) }
	get := func() uint32 { return binary.NativeEndian.Uint32(buf) }
	for _, x := range []uint32{1, 2} {
		set(x)
		for _, m := range []uint64{qp, sp} {
			if r := e.mustCall(linux.FnMapPushElem, m, v, 0); r != 0 {
				t.Fatalf("push %d = %d", x, r)
			}
		}
	}
	set(3)
	if r := e.mustCall(linux.FnMapPushElem, qp, v, 0); r != int64(maps.E2BIG.Ret()) {
		t.Errorf("push to full queue = %d, want -E2BIG", r)
	}
	if r := e.mustCall(linux.FnMapPushElem, qp, v, uint64(maps.UpdateExist)); r != 0 {
		t.Errorf("push BPF_EXIST to full queue = %d", r)
	}
	if r := e.mustCall(linux.FnMapPeekElem, qp, v); r != 0 || get() != 2 {
		t.Errorf("queue peek = %d, %d; want 2 (1 was dropped)", r, get())
	}
	if r := e.mustCall(linux.FnMapPopElem, sp, v); r != 0 || get() != 2 {
		t.Errorf("stack pop = %d, %d; want 2", r, get())
	}
	e.mustCall(linux.FnMapPopElem, sp, v)
	if r := e.mustCall(linux.FnMapPopElem, sp, v); r != int64(maps.ENOENT.Ret()) {
		t.Errorf("pop empty stack = %d, want -ENOENT", r)
	}
	set(42)
	e.mustCall(linux.FnMapPushElem, bp, v, 0)
	if r := e.mustCall(linux.FnMapPeekElem, bp, v); r != 0 {
		t.Errorf("bloom peek of a member = %d", r)
	}
	set(43)
	if r := e.mustCall(linux.FnMapPeekElem, bp, v); r != int64(maps.ENOENT.Ret()) {
		t.Errorf("bloom peek of a non-member = %d, want -ENOENT", r)
	}
	// Queue helpers on an element map and element helpers on a queue.
	_, ap := e.newMap(maps.Spec{Name: "a", Type: maps.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}, 1)
	if _, err := e.call(linux.FnMapPushElem, ap, v, 0); !errors.Is(err, ErrNotAMap) {
		t.Errorf("push to an array: %v, want ErrNotAMap", err)
	}
	if _, err := e.call(linux.FnMapUpdateElem, qp, v, v, 0); !errors.Is(err, ErrNotAMap) {
		t.Errorf("update of a queue: %v, want ErrNotAMap", err)
	}
}

func TestMapOfMapsLookup(t *testing.T) {
	e := newEnv(t, vm.Checked)
	innerSpec := maps.Spec{Name: "inner", Type: maps.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}
	inner, _ := e.newMap(innerSpec, 1)
	for _, typ := range []maps.Type{maps.ArrayOfMaps, maps.HashOfMaps} {
		outer, op := e.newMap(maps.Spec{Name: "outer", Type: typ, KeySize: 4, ValueSize: 4, MaxEntries: 2, InnerMap: &innerSpec}, 1)
		if err := outer.(maps.HandleMap).SetHandle(u32(1), inner, maps.UpdateAny); err != nil {
			t.Fatal(err)
		}
		buf, k := e.mem("key", 4, false)
		copy(buf, u32(1))
		if r := e.mustCall(linux.FnMapLookupElem, op, k); uint64(r) != e.host.add(inner) {
			t.Errorf("%s lookup = %#x, want inner map pointer %#x", typ, r, e.host.add(inner))
		}
		copy(buf, u32(0))
		if r := e.mustCall(linux.FnMapLookupElem, op, k); r != 0 {
			t.Errorf("%s lookup of empty slot = %#x", typ, r)
		}
		if allocs := testing.AllocsPerRun(100, func() { e.call(linux.FnMapLookupElem, op, k) }); allocs != 0 {
			t.Errorf("%s lookup: %v allocs", typ, allocs)
		}
	}
}

func TestSpinLockHelpers(t *testing.T) {
	e := newEnv(t, vm.Checked)
	buf, p := e.mem("lock", 8, true)
	e.mustCall(linux.FnSpinLock, p)
	if binary.NativeEndian.Uint32(buf) == 0 {
		t.Error("lock word 0 after bpf_spin_lock")
	}
	e.mustCall(linux.FnSpinUnlock, p)
	if binary.NativeEndian.Uint32(buf) != 0 {
		t.Error("lock word not 0 after bpf_spin_unlock")
	}
	if _, err := e.call(linux.FnSpinLock, p+2); !errors.Is(err, ErrMisaligned) {
		t.Errorf("misaligned lock: %v", err)
	}
	ro, rp := e.mem("ro", 4, false)
	_ = ro
	_, err := e.call(linux.FnSpinLock, rp)
	wantAccessError(t, "lock in read-only memory", err)
}

// TestCheckedFaults: bad pointers are errors in checked mode, never crashes.
func TestCheckedFaults(t *testing.T) {
	e := newEnv(t, vm.Checked)
	_, mp := e.newMap(maps.Spec{Name: "h", Type: maps.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 4}, 1)
	_, small := e.mem("small", 4, true)
	_, ro := e.mem("ro", 16, false)
	tests := []struct {
		name string
		id   int32
		args []uint64
	}{
		{"lookup key NULL", int32(linux.FnMapLookupElem), []uint64{mp, 0}},
		{"lookup key too short", int32(linux.FnMapLookupElem), []uint64{mp, small}},
		{"lookup wild key", int32(linux.FnMapLookupElem), []uint64{mp, 0xdead0000}},
		{"update value NULL", int32(linux.FnMapUpdateElem), []uint64{mp, ro, 0, 0}},
		{"probe_read into read-only", int32(linux.FnProbeRead), []uint64{ro, 8, small}},
		{"probe_read dst NULL", int32(linux.FnProbeReadKernel), []uint64{0, 8, small}},
		{"csum_diff from wild", int32(linux.FnCsumDiff), []uint64{0x1000, 4, 0, 0, 0}},
		{"ringbuf_output data NULL", int32(linux.FnRingbufOutput), []uint64{mp, 0, 8, 0}},
		{"strtol res read-only", int32(linux.FnStrtol), []uint64{small, 4, 0, ro}},
		{"get_current_comm into read-only", int32(linux.FnGetCurrentComm), []uint64{ro, 16}},
		{"trace_printk fmt wild", int32(linux.FnTracePrintk), []uint64{0x1000, 4}},
		{"snprintf str read-only", int32(linux.FnSnprintf), []uint64{ro, 8, small, 0, 0}},
	}
	for _, tt := range tests {
		var a [5]uint64
		copy(a[:], tt.args)
		_, err := e.h[tt.id](e.rc, a[0], a[1], a[2], a[3], a[4])
		if tt.name == "ringbuf_output data NULL" {
			if !errors.Is(err, ErrNotAMap) { // a hash map is not a ring buffer
				t.Errorf("%s: %v, want ErrNotAMap", tt.name, err)
			}
			continue
		}
		wantAccessError(t, tt.name, err)
	}

	// Unknown maps: an error in checked mode, -EINVAL / NULL when trusted.
	if _, err := e.call(linux.FnMapLookupElem, 0x1234, small); !errors.Is(err, ErrNotAMap) {
		t.Errorf("unknown map, checked: %v", err)
	}
	e.rc.Mode = vm.Trusted
	if r, err := e.call(linux.FnMapLookupElem, 0x1234, small); r != 0 || err != nil {
		t.Errorf("unknown map lookup, trusted = %#x, %v", r, err)
	}
	if r, err := e.call(linux.FnMapUpdateElem, 0x1234, small, small, 0); int64(r) != eINVAL || err != nil {
		t.Errorf("unknown map update, trusted = %d, %v", int64(r), err)
	}
}

// TestProgramMapLookup runs a real program in the checked interpreter:
// it counts in an array value and returns the count.
func TestProgramMapLookup(t *testing.T) {
	host := newHost()
	m, err := maps.New(maps.Spec{Name: "counts", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`
		stw [%%r10-4], 3
		lddw %%r1, %#x
		mov %%r2, %%r10
		add %%r2, -4
		call 1
		jeq %%r0, 0, miss
		mov %%r1, 1
		lock add [%%r0+0], %%r1
		ldxdw %%r0, [%%r0+0]
		exit
	miss:
		mov %%r0, -1
		exit`, host.add(m))
	exe := compile(t, src, host, vm.Checked)
	rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("values", m.(maps.ElemMap).ValueMemory(), true)}}
	for want := uint64(1); want <= 3; want++ {
		got, err := vm.Run(exe, rc)
		if err != nil || got != want {
			t.Fatalf("run %d = %d, %v", want, got, err)
		}
	}
	// Without the value region, the checked run stops at the load.
	rc.Regions = nil
	if _, err := vm.Run(exe, rc); err == nil {
		t.Error("run without the value region succeeded")
	}
}

// TestMapHelpersConcurrent updates and reads one hash map from many
// goroutines through the helpers (run with -race).
func TestMapHelpersConcurrent(t *testing.T) {
	host := newHost()
	m, err := maps.New(maps.Spec{Name: "h", Type: maps.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 64}, 8)
	if err != nil {
		t.Fatal(err)
	}
	mp := host.add(m)
	h := New(host)
	lookup, update, del := h[int32(linux.FnMapLookupElem)], h[int32(linux.FnMapUpdateElem)], h[int32(linux.FnMapDeleteElem)]
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc := &vm.RunContext{Slot: g}
			buf := make([]byte, 16)
			k, v := addr(buf), addr(buf)+8
			for i := range 2000 {
				binary.NativeEndian.PutUint64(buf, uint64(i%32))
				binary.NativeEndian.PutUint64(buf[8:], uint64(i))
				if r, err := update(rc, mp, k, v, 0, 0); err != nil || (r != 0 && int64(r) != int64(maps.E2BIG.Ret())) {
					t.Errorf("update = %d, %v", int64(r), err)
					return
				}
				if p, _ := lookup(rc, mp, k, 0, 0, 0); p != 0 {
					atomic.LoadUint64((*uint64)(vm.Pointer(p)))
				}
				if i%7 == 0 {
					del(rc, mp, k, 0, 0, 0)
				}
			}
		}()
	}
	wg.Wait()
}

// frozenHost resolves maps from a map that is no longer written, without
// locks, as a runtime's table built at load time would.
type frozenHost struct {
	*fakeHost
	byPtr map[uint64]maps.Map
}

func (f frozenHost) MapOf(p uint64) (maps.Map, bool) {
	m, ok := f.byPtr[p]
	return m, ok
}

// benchEnv is an env whose helpers use a frozenHost over one map.
func benchEnv(b *testing.B, s maps.Spec) (*env, uint64) {
	e := newEnv(b, vm.Trusted)
	_, mp := e.newMap(s, 1)
	e.h = New(frozenHost{e.host, e.host.byPtr})
	return e, mp
}

func BenchmarkMapLookupHelper(b *testing.B) {
	for _, typ := range []maps.Type{maps.Array, maps.Hash, maps.PerCPUArray} {
		b.Run(typ.String(), func(b *testing.B) {
			e, mp := benchEnv(b, maps.Spec{Name: "m", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 1024})
			buf, k := e.mem("key", 16, true)
			copy(buf, u32(7))
			lookup, update := e.h[int32(linux.FnMapLookupElem)], e.h[int32(linux.FnMapUpdateElem)]
			update(e.rc, mp, k, k+8, 0, 0)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if p, _ := lookup(e.rc, mp, k, 0, 0, 0); p == 0 {
					b.Fatal("miss")
				}
			}
		})
	}
}

func BenchmarkMapUpdateHelper(b *testing.B) {
	for _, typ := range []maps.Type{maps.Array, maps.Hash, maps.PerCPUArray} {
		b.Run(typ.String(), func(b *testing.B) {
			e, mp := benchEnv(b, maps.Spec{Name: "m", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 1024})
			buf, k := e.mem("key", 16, true)
			copy(buf, u32(7))
			update := e.h[int32(linux.FnMapUpdateElem)]
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if r, _ := update(e.rc, mp, k, k+8, 0, 0); r != 0 {
					b.Fatal(int64(r))
				}
			}
		})
	}
}

// BenchmarkProgramLookup measures a lookup-and-increment program in the
// interpreter, helper call included.
func BenchmarkProgramLookup(b *testing.B) {
	host := newHost()
	m, _ := maps.New(maps.Spec{Name: "counts", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 4}, 1)
	src := fmt.Sprintf(`
		stw [%%r10-4], 3
		lddw %%r1, %#x
		mov %%r2, %%r10
		add %%r2, -4
		call 1
		jeq %%r0, 0, +3
		mov %%r1, 1
		lock add [%%r0+0], %%r1
		mov %%r0, 0
		exit`, host.add(m))
	exe := compile(b, src, host, vm.Trusted)
	rc := &vm.RunContext{}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := exe.Run(rc); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMapHelpersNoAllocs(t *testing.T) {
	e := newEnv(t, vm.Trusted)
	for _, typ := range []maps.Type{maps.Array, maps.Hash, maps.PerCPUHash, maps.LRUHash} {
		_, mp := e.newMap(maps.Spec{Name: "m", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 16}, 1)
		buf, k := e.mem("key", 16, true)
		copy(buf, u32(3))
		lookup, update := e.h[int32(linux.FnMapLookupElem)], e.h[int32(linux.FnMapUpdateElem)]
		if a := testing.AllocsPerRun(200, func() { update(e.rc, mp, k, k+8, 0, 0) }); a != 0 {
			t.Errorf("%s update: %v allocs", typ, a)
		}
		if a := testing.AllocsPerRun(200, func() { lookup(e.rc, mp, k, 0, 0, 0) }); a != 0 {
			t.Errorf("%s lookup: %v allocs", typ, a)
		}
	}
}
