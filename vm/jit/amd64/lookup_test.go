package amd64_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// lookupMap is a map of the lookup tests, with the keys to look up.
type lookupMap struct {
	name string
	spec maps.Spec
	keys []uint64 // the low KeySize bytes are the key
	ptr  uint64
	m    maps.Map
	kind string // what the listing of an inlined call contains
}

// lookupMaps makes the maps of the lookup tests: arrays with strides that
// are and are not powers of two, per-CPU arrays, hash maps of several
// kinds and key sizes, filled with some keys.
func lookupMaps(t testing.TB, host *mapHost, slots int) []*lookupMap {
	arrayKeys := []uint64{0, 1, 7, 99, 100, 101, 1 << 31, 0xffffffff, 0x1_0000_0001}
	hashKeys := []uint64{0, 1, 5, 31, 32, 1000, 0xffffffff, 0x1234_5678_9abc}
	ms := []*lookupMap{
		{name: "array", spec: maps.Spec{Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 100}, keys: arrayKeys, kind: "shl r10, 0x3"},
		{name: "array-stride-24", spec: maps.Spec{Type: maps.Array, KeySize: 4, ValueSize: 20, MaxEntries: 100}, keys: arrayKeys, kind: "imul r10, r10, 0x18"},
		{name: "array-1", spec: maps.Spec{Type: maps.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}, keys: arrayKeys, kind: "cmp r10d, 0x1"},
		{name: "percpu-array", spec: maps.Spec{Type: maps.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 100}, keys: arrayKeys, kind: "imul r11, r11, 0x320"},
		{name: "percpu-array-16", spec: maps.Spec{Type: maps.PerCPUArray, KeySize: 4, ValueSize: 16, MaxEntries: 16}, keys: arrayKeys, kind: "shl r11, 0x8"},
		{name: "percpu-hash", spec: maps.Spec{Type: maps.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 64}, keys: hashKeys, kind: hashKind},
		{name: "percpu-hash-key-7", spec: maps.Spec{Type: maps.PerCPUHash, KeySize: 7, ValueSize: 24, MaxEntries: 40}, keys: hashKeys, kind: hashKind},
		{name: "lru-hash", spec: maps.Spec{Type: maps.LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 64}, keys: hashKeys, kind: "cmp dword ptr [r10+4*rax], 0x0"},
		{name: "lru-percpu-hash", spec: maps.Spec{Type: maps.LRUPerCPUHash, KeySize: 12, ValueSize: 8, MaxEntries: 64}, keys: hashKeys, kind: "cmp dword ptr [r10+4*rax], 0x0"},
		{name: "hash-key-65", spec: maps.Spec{Type: maps.Hash, KeySize: 65, ValueSize: 8, MaxEntries: 64}, keys: hashKeys, kind: "jmp 0x33 <exit>"},
	}
	for _, ks := range []uint32{1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 64} {
		ms = append(ms, &lookupMap{name: fmt.Sprintf("hash-key-%d", ks), spec: maps.Spec{Type: maps.Hash, KeySize: ks, ValueSize: 8, MaxEntries: 64},
			keys: hashKeys, kind: hashKind})
	}
	for _, lm := range ms {
		lm.spec.Name = lm.name
		lm.m, lm.ptr = host.add(t, lm.spec, slots)
		if lm.spec.Type != maps.Array && lm.spec.Type != maps.PerCPUArray {
			// Keys 0..31: the hash maps hold some of the keys looked up.
			key := make([]byte, lm.spec.KeySize)
			stride := int(lm.spec.ValueSize+7) &^ 7
			value := make([]byte, stride*slots)
			if !lm.spec.Type.PerCPU() {
				value = value[:lm.spec.ValueSize]
			}
			for k := range uint64(32) {
				binary.LittleEndian.PutUint64(value, k*3+1)
				putKey(key, k)
				if err := lm.m.Update(key, value, maps.UpdateAny); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return ms
}

// hashKind is what the listing of a hash map lookup in generated code
// contains in line.
const hashKind = "mul r10"

// putKey stores the low len(key) bytes of k; bytes past the eighth
// depend on k too (on its low byte), so that keys differ in every word.
func putKey(key []byte, k uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], k)
	copy(key, b[:])
	for i := 8; i < len(key); i++ {
		key[i] = byte(k)*7 + byte(i)
	}
}

// native is Options.Maps as the runtime implements it (jitmaps.go's
// inlineMap): mapHost.inline, but hash maps are looked up in generated
// code (InlineHash).
func (h *mapHost) native(ptr uint64) (amd64.InlineMap, bool) {
	im, ok := h.inline(ptr)
	if hm, isHash := h.byPtr[ptr].(*maps.HashMap); ok && isHash {
		d := hm.Inline()
		im.Kind, im.Slots, im.Hash = amd64.InlineHash, d.Slots, hashTable(d)
	}
	return im, ok
}

// hashTable converts the map's description to the engine's.
func hashTable(d maps.HashInline) amd64.HashTable {
	return amd64.HashTable{
		Heads: uint64(d.Heads), Mask: d.Mask, Elems: uint64(d.Elems), Stride: d.Stride, N: d.N,
		Seed: d.Seed, Mult: d.Mult,
		Stripes: uint64(d.Stripes), StripeSize: d.StripeSize, StripeMask: d.StripeMask, SeqOffset: d.SeqOffset,
		Values: uint64(d.Values), ValueStride: d.ValueStride, SlotStride: d.SlotStride,
		PerCPU: d.PerCPU, LRU: d.LRU, Refs: uint64(d.Refs),
	}
}

// lookupKeyBytes is how many bytes of the key lookupSource stores.
const lookupKeyBytes = 72

// lookupSource is a program that looks key up in the map at ptr: the key
// (putKey's 72 bytes, of which maps read a prefix) is stored at r10-72
// and the map pointer loaded into r6 before a jump (so that only the
// data-flow analysis finds it). r3, r4 and r5 hold values the lookup must
// keep. If deref, it returns the value's first 4 bytes (or 0x77 for NULL)
// rather than the pointer.
func lookupSource(ptr, key uint64, deref bool) string {
	end := "exit"
	if deref {
		end = "jeq %r0, 0, null\nldxw %r0, [%r0]\nexit\nnull:\nmov %r0, 0x77\nexit"
	}
	k := make([]byte, lookupKeyBytes)
	putKey(k, key)
	var stores strings.Builder
	for i := 0; i < len(k); i += 8 {
		fmt.Fprintf(&stores, "lddw %%r1, %#x\nstxdw [%%r10-%d], %%r1\n", binary.LittleEndian.Uint64(k[i:]), len(k)-i)
	}
	return fmt.Sprintf(`
	lddw %%r6, %#x
	%s
	ja go
go:
	mov %%r1, %%r6
	mov %%r2, %%r10
	add %%r2, -%d
	mov %%r3, 3
	mov %%r4, 4
	mov %%r5, 5
	call 1
	add %%r0, %%r3
	add %%r0, %%r4
	add %%r0, %%r5
	sub %%r0, 12
	%s`, ptr, stores.String(), len(k), end)
}

// TestMapLookups compares lookups on maps known at compile time (inline
// for arrays and hash maps, through Elem for the others) with the
// interpreter and the real helper, and with the map's LookupPtr: the
// pointers returned, NULL for absent keys and out-of-range indexes and
// slots, values read through them, instruction counts, in both modes and
// several slots.
func TestMapLookups(t *testing.T) {
	const slots = 4
	host := newMapHost()
	hs := helpers.New(host)
	inline := amd64.NewWithOptions(amd64.Options{Maps: host.native})
	for _, lm := range lookupMaps(t, host, slots) {
		for _, key := range lm.keys {
			for _, deref := range []bool{false, true} {
				prog, err := isa.Assemble(lookupSource(lm.ptr, key, deref))
				if err != nil {
					t.Fatal(err)
				}
				p := &vm.Program{Instructions: prog, Helpers: hs}
				for _, mode := range modes {
					ref, err := interp.New().Compile(p, vm.CompileOptions{Mode: mode})
					if err != nil {
						t.Fatal(err)
					}
					exe, err := inline.Compile(p, vm.CompileOptions{Mode: mode})
					if err != nil {
						t.Fatal(err)
					}
					for _, slot := range []int{0, 1, slots - 1, slots, -1} {
						var out [2]outcome
						for i, e := range []vm.Executable{ref, exe} {
							rc := &vm.RunContext{Slot: slot, Regions: host.regions()}
							r0, err := e.Run(rc)
							out[i] = outcome{r0: r0, executed: rc.Executed}
							if err != nil {
								out[i].err = err.Error()
							}
						}
						if out[0] != out[1] {
							t.Errorf("%s key %#x slot %d deref %v (%v): interp %v, jit %v", lm.name, key, slot, deref, mode, out[0], out[1])
						}
						if em, ok := lm.m.(maps.ElemMap); ok && !deref {
							k := make([]byte, lm.spec.KeySize)
							putKey(k, key)
							// The program returns the pointer plus 3+4+5-12.
							if want := uint64(uintptr(em.LookupPtr(k, slot))); out[1].r0 != want {
								t.Errorf("%s key %#x slot %d (%v): jit %#x, LookupPtr %#x", lm.name, key, slot, mode, out[1].r0, want)
							}
						}
					}
					exe.Close()
				}
				if deref {
					continue
				}
				// The call is compiled without the helper: in line, arrays
				// and hash maps never leave for Go; hash maps' slow path
				// does, out of line.
				text, stubs := callListing(t, inline, p)
				exits := 0
				if lm.kind == hashKind || strings.HasPrefix(lm.kind, "cmp dword") {
					exits = 1
				}
				if !strings.Contains(text, lm.kind) || strings.Contains(lm.kind, "<exit>") != strings.Contains(text, "<exit>") || strings.Count(stubs, "<exit>") != exits {
					t.Errorf("%s: the lookup compiles to\n%s\nand out of line\n%s\nwant %q", lm.name, text, stubs, lm.kind)
				}
			}
		}
	}
}

// callListing returns the listing of the helper calls of p, compiled in
// trusted mode: their code in line and out of line.
func callListing(t *testing.T, e vm.Engine, p *vm.Program) (text, outOfLine string) {
	exe, err := e.Compile(p, vm.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	blocks, err := amd64.Listing(exe)
	if err != nil {
		t.Fatal(err)
	}
	var in, out []string
	for _, b := range blocks {
		if b.PC >= 0 && p.Instructions[b.PC].Opcode == isa.OpCall {
			if b.OutOfLine {
				out = append(out, b.Insns...)
			} else {
				in = append(in, b.Insns...)
			}
		}
	}
	return strings.Join(in, "\n"), strings.Join(out, "\n")
}

// TestMapLookupKeys checks lookups whose key is not in the stack: checked
// runs call the helper, which checks it and names it in its error, as in
// the interpreter; and lookups whose map pointer is not a constant, which
// call the helper.
func TestMapLookupKeys(t *testing.T) {
	host := newMapHost()
	ms := lookupMaps(t, host, 2)
	hs := helpers.New(host)
	inline := amd64.NewWithOptions(amd64.Options{Maps: host.native})
	input := heapBytes(128) // holds the longest key
	binary.LittleEndian.PutUint64(input, 5)
	for _, lm := range ms {
		for name, src := range map[string]string{
			"key in input":    fmt.Sprintf("mov %%r2, %%r1\nlddw %%r1, %#x\ncall 1\nexit", lm.ptr),
			"key past input":  fmt.Sprintf("mov %%r2, %%r1\nadd %%r2, 126\nlddw %%r1, %#x\ncall 1\nexit", lm.ptr),
			"key at 8":        fmt.Sprintf("mov %%r2, 8\nlddw %%r1, %#x\ncall 1\nexit", lm.ptr),
			"key below stack": fmt.Sprintf("stdw [%%r10-8], 1\nmov %%r2, %%r10\nadd %%r2, -520\nlddw %%r1, %#x\ncall 1\nexit", lm.ptr),
			"key at stack top": fmt.Sprintf("stdw [%%r10-8], 1\nmov %%r2, %%r10\nadd %%r2, -%d\nlddw %%r1, %#x\ncall 1\nexit",
				lm.spec.KeySize-1, lm.ptr),
			"joined pointers": fmt.Sprintf(`stdw [%%r10-8], 3
				lddw %%r6, %#x
				jeq %%r1, 0, other
				lddw %%r6, %#x
			other:
				mov %%r1, %%r6
				mov %%r2, %%r10
				add %%r2, -8
				call 1
				exit`, lm.ptr, ms[0].ptr),
			"pointer from memory": fmt.Sprintf("lddw %%r1, %#x\nstxdw [%%r10-16], %%r1\nstdw [%%r10-8], 1\nldxdw %%r1, [%%r10-16]\nmov %%r2, %%r10\nadd %%r2, -8\ncall 1\nexit", lm.ptr),
		} {
			prog, err := isa.Assemble(src)
			if err != nil {
				t.Fatal(err)
			}
			p := &vm.Program{Instructions: prog, Helpers: hs}
			for _, mode := range modes {
				if mode == vm.Trusted && (name == "key at 8" || name == "key past input") {
					continue // no verifier would let these run trusted
				}
				var out [2]outcome
				rc := &vm.RunContext{Regions: append(host.regions(), vm.RegionOf("input", input, false)), Value: input}
				rc.Args[0] = uint64(rc.Regions[len(rc.Regions)-1].Start)
				for i, e := range []vm.Engine{interp.New(), inline} {
					exe, err := e.Compile(p, vm.CompileOptions{Mode: mode})
					if err != nil {
						t.Fatal(err)
					}
					clear(rc.Stack().Bytes())
					r0, err := exe.Run(rc)
					out[i] = outcome{r0: r0, executed: rc.Executed}
					if err != nil {
						out[i].err = err.Error()
					}
					exe.Close()
				}
				if out[0] != out[1] {
					t.Errorf("%s, %s (%v): interp %v, jit %v", lm.name, name, mode, out[0], out[1])
				}
				if mode == vm.Checked && name == "key at 8" && !strings.Contains(out[1].err, "bpf_map_lookup_elem: key") {
					t.Errorf("%s, %s: error %q", lm.name, name, out[1].err)
				}
			}
		}
	}
}

// TestMapLookupLoop runs the benchmark's 64 lookups on a hash map and an
// array, in both modes, from several goroutines, against the interpreter.
func TestMapLookupLoop(t *testing.T) {
	host := newMapHost()
	hs := helpers.New(host)
	inline := amd64.NewWithOptions(amd64.Options{Maps: host.native})
	for _, typ := range []maps.Type{maps.Hash, maps.Array, maps.PerCPUArray} {
		m, ptr := host.add(t, maps.Spec{Name: "table", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 1024}, 4)
		if typ != maps.PerCPUArray {
			fill(t, m)
		}
		prog, err := isa.Assemble(fmt.Sprintf(lookups64, ptr))
		if err != nil {
			t.Fatal(err)
		}
		p := &vm.Program{Instructions: prog, Helpers: hs}
		for _, mode := range modes {
			ref, _ := interp.New().Compile(p, vm.CompileOptions{Mode: mode})
			want, err := ref.Run(&vm.RunContext{Regions: host.regions()})
			if err != nil {
				t.Fatal(err)
			}
			exe, err := inline.Compile(p, vm.CompileOptions{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					rc := &vm.RunContext{Slot: g, Regions: host.regions()}
					for range 50 {
						if r0, err := exe.Run(rc); r0 != want || err != nil {
							t.Errorf("%v (%v): %d, %v; want %d", typ, mode, r0, err, want)
							return
						}
					}
				})
			}
			wg.Wait()
			exe.Close()
		}
	}
}

// TestMapLookupOptions checks descriptions the engine must refuse, and
// that helper 1 is left alone without Options.Maps.
func TestMapLookupOptions(t *testing.T) {
	vals := heapBytes(64)
	bad := []amd64.InlineMap{
		{Kind: amd64.InlineArray, Values: vals, KeySize: 4, Stride: 8, MaxEntries: 9},
		{Kind: amd64.InlineArray, Values: vals, KeySize: 4, Stride: 12, MaxEntries: 4},
		{Kind: amd64.InlineArray, Values: vals, KeySize: 8, Stride: 8, MaxEntries: 4},
		{Kind: amd64.InlinePerCPUArray, Values: vals, KeySize: 4, Stride: 8, MaxEntries: 4, Slots: 3},
		{Kind: amd64.InlinePerCPUArray, Values: vals, KeySize: 4, Stride: 8, MaxEntries: 4},
		{Kind: amd64.InlineElem, KeySize: 4},
		{Kind: 9},
	}
	prog, _ := isa.Assemble("lddw %r1, 0x1000\nmov %r2, %r10\nadd %r2, -4\nstw [%r10-4], 0\ncall 1\nexit")
	p := &vm.Program{Instructions: prog, Helpers: vm.Helpers{1: func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 42, nil }}}
	for i, m := range bad {
		e := amd64.NewWithOptions(amd64.Options{Maps: func(ptr uint64) (amd64.InlineMap, bool) { return m, ptr == 0x1000 }})
		var ce *vm.CompileError
		if _, err := e.Compile(p, vm.CompileOptions{}); !errors.As(err, &ce) || ce.PC != 5 {
			t.Errorf("description %d: %v", i, err)
		}
	}
	// Unresolved pointers and InlineNone call the helper.
	for _, maps := range []func(uint64) (amd64.InlineMap, bool){
		func(uint64) (amd64.InlineMap, bool) { return amd64.InlineMap{}, false },
		func(uint64) (amd64.InlineMap, bool) { return amd64.InlineMap{}, true },
		nil,
	} {
		exe, err := amd64.NewWithOptions(amd64.Options{Maps: maps}).Compile(p, vm.CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r0, err := exe.Run(&vm.RunContext{}); r0 != 42 || err != nil {
			t.Errorf("helper: %d, %v", r0, err)
		}
		exe.Close()
	}
}
