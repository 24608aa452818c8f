package amd64_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// mapHost is a small helpers.Host: map pointers are the addresses of
// heap handles, resolved through a Go map as the runtime's registry does.
type mapHost struct {
	byPtr   map[uint64]maps.Map
	handles []*mapHandle
}

// mapHandle is what a map pointer points to.
type mapHandle struct{ m maps.Map }

func newMapHost() *mapHost { return &mapHost{byPtr: map[uint64]maps.Map{}} }

// add creates a map and returns its pointer.
func (h *mapHost) add(t testing.TB, spec maps.Spec, slots int) (maps.Map, uint64) {
	t.Helper()
	m, err := maps.New(spec, slots)
	if err != nil {
		t.Fatal(err)
	}
	mh := &mapHandle{m: m}
	h.handles = append(h.handles, mh)
	ptr := uint64(uintptr(unsafe.Pointer(mh)))
	h.byPtr[ptr] = m
	return m, ptr
}

func (h *mapHost) MapOf(ptr uint64) (maps.Map, bool) {
	m, ok := h.byPtr[ptr]
	return m, ok
}

// inline is Options.Maps as the runtime implements it: arrays are looked
// up inline, other element maps through their LookupPtr.
func (h *mapHost) inline(ptr uint64) (amd64.InlineMap, bool) {
	m, ok := h.byPtr[ptr]
	if !ok {
		return amd64.InlineMap{}, false
	}
	s := m.Spec()
	switch m := m.(type) {
	case *maps.ArrayMap:
		kind := amd64.InlineArray
		if s.Type == maps.PerCPUArray {
			kind = amd64.InlinePerCPUArray
		}
		return amd64.InlineMap{Kind: kind, Values: m.ValueMemory(), KeySize: s.KeySize, Stride: (s.ValueSize + 7) &^ 7, MaxEntries: s.MaxEntries, Slots: m.Slots(), Elem: m}, true
	case maps.ElemMap:
		return amd64.InlineMap{Kind: amd64.InlineElem, Values: m.ValueMemory(), KeySize: s.KeySize, Elem: m}, true
	}
	return amd64.InlineMap{}, false
}

func (h *mapHost) HandlePtr(any) uint64                 { return 0 }
func (h *mapHost) TailTarget(any) (vm.Executable, bool) { return nil, false }
func (h *mapHost) Printk(string)                        {}
func (h *mapHost) regions() (out []vm.Region) {
	for _, mh := range h.handles {
		if em, ok := mh.m.(maps.ElemMap); ok {
			out = append(out, vm.RegionOf("map", em.ValueMemory(), true))
		}
	}
	return out
}

// lookups64 is bench/progs.c's hash_lookups as clang compiles it: 64
// lookups of keys 0, 16, ..., 1008, summing the values found.
const lookups64 = `
	mov %%r6, 0
	mov32 %%r7, 0
	ja first
loop:
	add32 %%r7, 16
	jeq %%r7, 1024, done
first:
	stxw [%%r10-4], %%r7
	mov %%r2, %%r10
	add %%r2, -4
	lddw %%r1, %#x
	call 1
	jeq %%r0, 0, loop
	ldxdw %%r1, [%%r0]
	add %%r1, %%r6
	mov %%r6, %%r1
	ja loop
done:
	and32 %%r6, 3
	mov32 %%r0, %%r6
	exit
`

// fill stores value 3*i at key i for i < 1024.
func fill(t testing.TB, m maps.Map) {
	t.Helper()
	k, v := make([]byte, 4), make([]byte, 8)
	for i := uint32(0); i < 1024; i++ {
		binary.NativeEndian.PutUint32(k, i)
		binary.NativeEndian.PutUint64(v, uint64(i)*3)
		if err := m.Update(k, v, maps.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkMapLookups runs 64 bpf_map_lookup_elem calls on a 1,024-entry
// hash map and array, with the real helpers (ns/op is one run).
func BenchmarkMapLookups(b *testing.B) {
	for _, typ := range []maps.Type{maps.Hash, maps.Array} {
		host := newMapHost()
		m, ptr := host.add(b, maps.Spec{Name: "table", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 1024}, 1)
		fill(b, m)
		prog, err := isa.Assemble(fmt.Sprintf(lookups64, ptr))
		if err != nil {
			b.Fatal(err)
		}
		p := withFacts(&vm.Program{Instructions: prog, Helpers: helpers.New(host)})
		engines := map[string]vm.Engine{"interp": interp.New(), "jit": amd64.New(), "jit-inline": amd64.NewWithOptions(amd64.Options{Maps: host.inline})}
		for _, name := range []string{"jit-inline", "jit", "interp"} {
			engine := engines[name]
			for _, mode := range modes {
				b.Run(fmt.Sprintf("%s/%s/%s", typ, name, mode), func(b *testing.B) {
					exe, err := engine.Compile(p, vm.CompileOptions{Mode: mode})
					if err != nil {
						b.Fatal(err)
					}
					defer exe.Close()
					rc := &vm.RunContext{Regions: host.regions()}
					want := uint64(64*63/2*16*3) & 3
					if r0, err := exe.Run(rc); err != nil || r0 != want {
						b.Fatalf("r0 %d, %v; want %d", r0, err, want)
					}
					for b.Loop() {
						exe.Run(rc)
					}
				})
			}
		}
	}
}

// helperLoop calls a trivial helper 1,000 times.
const helperLoop = `
	mov %r6, 1000
loop:
	mov %r1, %r6
	call 5
	sub %r6, 1
	jne %r6, 0, loop
	exit
`

// BenchmarkHelperCall measures the round trip of one helper call: ns per
// call of a helper that returns its argument.
func BenchmarkHelperCall(b *testing.B) {
	prog, err := isa.Assemble(helperLoop)
	if err != nil {
		b.Fatal(err)
	}
	for _, engine := range []vm.Engine{amd64.New(), interp.New()} {
		b.Run(engine.Name(), func(b *testing.B) {
			exe, err := engine.Compile(&vm.Program{Instructions: prog, Helpers: diffHelpers}, vm.CompileOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer exe.Close()
			rc := &vm.RunContext{}
			for b.Loop() {
				exe.Run(rc)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/call")
		})
	}
}
