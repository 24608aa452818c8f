package amd64_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/bpfhost/bpfhost/helpers"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

// keyLookup is a program that looks up the key at r1 (lookupKeyBytes
// bytes, copied to the stack first) in the map at %#x, stores the pointer
// it gets just after the key and returns the value's first word, or -1 for
// NULL.
const keyLookup = `
	mov %%r6, %%r1
	%s
	mov %%r2, %%r10
	add %%r2, -%d
	lddw %%r1, %#x
	call 1
	stxdw [%%r6+%d], %%r0
	jeq %%r0, 0, null
	ldxdw %%r0, [%%r0]
	exit
null:
	mov %%r0, -1
	exit
`

// keyLookupSource returns keyLookup for the map at ptr.
func keyLookupSource(ptr uint64) string {
	var copies strings.Builder
	for i := 0; i < lookupKeyBytes; i += 8 {
		fmt.Fprintf(&copies, "ldxdw %%r3, [%%r6+%d]\nstxdw [%%r10-%d], %%r3\n", i, lookupKeyBytes-i)
	}
	return fmt.Sprintf(keyLookup, copies.String(), lookupKeyBytes, ptr, lookupKeyBytes)
}

// keyRunner runs keyLookup on one map in one mode.
type keyRunner struct {
	exe vm.Executable
	buf []byte // the key, then the pointer the lookup returned
	rc  *vm.RunContext
}

func newKeyRunner(t testing.TB, e vm.Engine, host *mapHost, ptr uint64, mode vm.Mode, slot int) *keyRunner {
	t.Helper()
	prog, err := isa.Assemble(keyLookupSource(ptr))
	if err != nil {
		t.Fatal(err)
	}
	exe, err := e.Compile(withFacts(&vm.Program{Instructions: prog, Helpers: helpers.New(host)}), vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exe.Close() })
	buf := heapBytes(lookupKeyBytes + 8)
	rc := &vm.RunContext{Slot: slot, Regions: append(host.regions(), vm.RegionOf("key", buf, true))}
	rc.Args[0] = uint64(rc.Regions[len(rc.Regions)-1].Start)
	return &keyRunner{exe: exe, buf: buf, rc: rc}
}

// lookup runs the program on key and returns the pointer it got and the
// value's first word (-1 for NULL).
func (r *keyRunner) lookup(t testing.TB, key []byte) (ptr uintptr, word uint64) {
	clear(r.buf)
	copy(r.buf, key)
	word, err := r.exe.Run(r.rc)
	if err != nil { // Errorf: stress tests call this on other goroutines
		t.Errorf("key %x: %v", key, err)
		return 0, 0
	}
	return uintptr(binary.NativeEndian.Uint64(r.buf[lookupKeyBytes:])), word
}

// hashOf is the map's hash of key as maps.HashInline documents it.
func hashOf(d maps.HashInline, key []byte) uint32 {
	mix := func(a, b uint64) uint64 {
		hi, lo := bits.Mul64(a, b)
		return hi ^ lo
	}
	h := d.Seed ^ uint64(len(key))*d.Mult[0]
	for ; len(key) >= 8; key = key[8:] {
		h = mix(h^binary.LittleEndian.Uint64(key), d.Mult[1])
	}
	if len(key) > 0 {
		var w [8]byte
		copy(w[:], key)
		h = mix(h^binary.LittleEndian.Uint64(w[:]), d.Mult[2])
	}
	return uint32(mix(h, d.Mult[0]^d.Mult[2]))
}

// collide returns two keys of size bytes that differ only in bytes
// [from, to) and have the same 32-bit hash: in one chain, only the
// comparison of those bytes tells them apart.
func collide(d maps.HashInline, size, from, to int, rng *rand.Rand) (k1, k2 []byte) {
	base := make([]byte, size)
	for i := range base {
		base[i] = byte(rng.Uint32())
	}
	seen := map[uint32][]byte{}
	for {
		k := append([]byte(nil), base...)
		for i := from; i < to; i++ {
			k[i] = byte(rng.Uint32())
		}
		h := hashOf(d, k)
		if prev, ok := seen[h]; ok && string(prev) != string(k) {
			return prev, k
		}
		seen[h] = k
	}
}

// TestHashLookupCollisions looks up keys with equal hashes that differ in
// one word (or in the last partial word), so that finding the right one
// takes comparing that word: absent, present, and both in one chain,
// against LookupPtr, in both modes.
func TestHashLookupCollisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	host := newMapHost()
	e := amd64.NewWithOptions(amd64.Options{Maps: host.native})
	sizes := []int{3, 4, 5, 6, 7, 8, 12, 16, 20, 64}
	if testing.Short() {
		sizes = []int{5, 16, 64}
	}
	for _, size := range sizes {
		var parts [][2]int
		for i := 0; i+8 <= size; i += 8 {
			parts = append(parts, [2]int{i, i + 8})
		}
		if rest := size % 8; rest >= 3 { // fewer bytes hardly ever collide
			parts = append(parts, [2]int{size - rest, size})
		}
		for _, part := range parts {
			m, ptr := host.add(t, maps.Spec{Name: "h", Type: maps.Hash, KeySize: uint32(size), ValueSize: 8, MaxEntries: 8}, 1)
			hm := m.(*maps.HashMap)
			k1, k2 := collide(hm.Inline(), size, part[0], part[1], rng)
			runners := []*keyRunner{newKeyRunner(t, e, host, ptr, vm.Trusted, 0), newKeyRunner(t, e, host, ptr, vm.Checked, 0)}
			check := func(step string, key []byte, want uint64) {
				t.Helper()
				for _, r := range runners {
					p, word := r.lookup(t, key)
					if lp := uintptr(hm.LookupPtr(key, 0)); p != lp || word != want {
						t.Errorf("key size %d, bytes %v, %s: key %x: pointer %#x, value %#x; LookupPtr %#x, want value %#x", size, part, step, key, p, word, lp, want)
					}
				}
			}
			check("empty", k1, ^uint64(0))
			if err := m.Update(k1, binary.NativeEndian.AppendUint64(nil, 1), maps.UpdateAny); err != nil {
				t.Fatal(err)
			}
			check("other present", k2, ^uint64(0))
			check("present", k1, 1)
			if err := m.Update(k2, binary.NativeEndian.AppendUint64(nil, 2), maps.UpdateAny); err != nil {
				t.Fatal(err)
			}
			check("both, first", k1, 1)
			check("both, second", k2, 2)
			if err := m.Delete(k2); err != nil {
				t.Fatal(err)
			}
			check("deleted", k2, ^uint64(0))
			check("after delete", k1, 1)
		}
	}
}

// countingElem counts the calls of a map's LookupPtr: the lookups that
// took the slow path.
type countingElem struct {
	amd64.Lookuper
	calls atomic.Int64
}

func (c *countingElem) LookupPtr(key []byte, slot int) unsafe.Pointer {
	c.calls.Add(1)
	return c.Lookuper.LookupPtr(key, slot)
}

// TestHashLookupSlowPaths feeds the code descriptions that force the slow
// path (an odd or moving sequence counter, element indexes out of range, a
// cyclic chain) and checks that lookups leave for LookupPtr, and return
// what it returns.
func TestHashLookupSlowPaths(t *testing.T) {
	host := newMapHost()
	m, ptr := host.add(t, maps.Spec{Name: "h", Type: maps.PerCPUHash, KeySize: 12, ValueSize: 8, MaxEntries: 64}, 2)
	hm := m.(*maps.HashMap)
	key := make([]byte, 12)
	for k := range uint64(40) {
		putKey(key, k)
		if r := hm.UpdateElem(key, binary.NativeEndian.AppendUint64(nil, k), 0, int(k%2)); r != 0 {
			t.Fatal(r)
		}
	}
	d := hm.Inline()
	real := hashTable(d)
	// Counters of our own, a stripe's worth of words each.
	seqs := make([]uint32, (d.StripeMask+1)*d.StripeSize/4)
	seqWord := func(i uint32) *uint32 { return &seqs[(i*d.StripeSize+d.SeqOffset)/4] }
	// A table whose every bucket holds element 0, linked to itself, with
	// the key's hash and another key: the walk goes round forever.
	heads := make([]int32, d.Mask+1)
	elems := make([]uint64, d.N*d.Stride/8)
	putKey(key, 5)
	binary.NativeEndian.PutUint32(unsafe.Slice((*byte)(unsafe.Pointer(&elems[0])), 8), hashOf(d, key))
	binary.NativeEndian.PutUint32(unsafe.Slice((*byte)(unsafe.Pointer(&elems[0])), 8)[4:], 0)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)

	for _, c := range []struct {
		name   string
		change func(*amd64.HashTable)
		all    bool // every lookup takes the slow path
		keys   []uint64
	}{
		{"real", func(*amd64.HashTable) {}, false, nil},
		{"odd counter", func(h *amd64.HashTable) {
			h.Stripes = uint64(uintptr(unsafe.Pointer(&seqs[0])))
			for i := range d.StripeMask + 1 {
				*seqWord(i) = 1
			}
		}, true, nil},
		{"moving counter", func(h *amd64.HashTable) {
			h.Stripes = uint64(uintptr(unsafe.Pointer(&seqs[0])))
			for i := range d.StripeMask + 1 {
				*seqWord(i) = 0
			}
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					for i := range d.StripeMask + 1 {
						atomic.AddUint32(seqWord(i), 2)
					}
				}
			})
		}, false, nil},
		{"indexes out of range", func(h *amd64.HashTable) { h.N = 1 }, false, nil},
		{"cyclic chain", func(h *amd64.HashTable) {
			h.Heads = uint64(uintptr(unsafe.Pointer(&heads[0])))
			h.Elems = uint64(uintptr(unsafe.Pointer(&elems[0])))
		}, true, []uint64{5}},
	} {
		elem := &countingElem{Lookuper: hm}
		table := real
		c.change(&table)
		resolve := func(p uint64) (amd64.InlineMap, bool) {
			im, ok := host.native(p)
			if p == ptr {
				im.Elem, im.Hash = elem, table
			}
			return im, ok
		}
		e := amd64.NewWithOptions(amd64.Options{Maps: resolve})
		lookups := int64(0)
		for _, mode := range modes {
			for _, slot := range []int{0, 1} {
				r := newKeyRunner(t, e, host, ptr, mode, slot)
				for k := range uint64(48) {
					if c.keys != nil && k != c.keys[0] {
						continue
					}
					putKey(key, k)
					p, _ := r.lookup(t, key)
					lookups++
					if want := uintptr(hm.LookupPtr(key, slot)); p != want {
						t.Errorf("%s (%v): key %d slot %d: %#x, LookupPtr %#x", c.name, mode, k, slot, p, want)
					}
				}
			}
		}
		switch n := elem.calls.Load(); {
		case c.all && n != lookups:
			t.Errorf("%s: %d of %d lookups took the slow path, want all", c.name, n, lookups)
		case c.name == "real" && n != 0:
			t.Errorf("%s: %d of %d lookups took the slow path, want none", c.name, n, lookups)
		case c.name == "indexes out of range" && (n == 0 || n == lookups):
			t.Errorf("%s: %d of %d lookups took the slow path, want some", c.name, n, lookups)
		}
	}
}

// TestHashLookupLRU checks that lookups in generated code mark LRU
// elements referenced as LookupPtr does: the same elements survive the
// evictions that follow on two maps, one looked up by the JIT, the other
// by LookupPtr.
func TestHashLookupLRU(t *testing.T) {
	for _, typ := range []maps.Type{maps.LRUHash, maps.LRUPerCPUHash} {
		host := newMapHost()
		e := amd64.NewWithOptions(amd64.Options{Maps: host.native})
		var ms [2]*maps.HashMap
		var ptr uint64
		for i := range ms {
			var m maps.Map
			m, ptr = host.add(t, maps.Spec{Name: "lru", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 8}, 2)
			ms[i] = m.(*maps.HashMap)
		}
		r := newKeyRunner(t, e, host, ptr, vm.Trusted, 1) // ptr is ms[1]
		key := make([]byte, 4)
		for k := range uint32(8) {
			binary.NativeEndian.PutUint32(key, k)
			for _, m := range ms {
				if r := m.UpdateElem(key, make([]byte, 8), 0, 1); r != 0 {
					t.Fatal(r)
				}
			}
		}
		for _, k := range []uint32{2, 5, 5} {
			binary.NativeEndian.PutUint32(key, k)
			if ms[0].LookupPtr(key, 1) == nil {
				t.Fatalf("%v: key %d missing", typ, k)
			}
			if p, _ := r.lookup(t, key); p == 0 {
				t.Fatalf("%v: key %d missing in the JIT", typ, k)
			}
		}
		for k := range uint32(4) {
			binary.NativeEndian.PutUint32(key, 8+k)
			for _, m := range ms {
				if r := m.UpdateElem(key, make([]byte, 8), 0, 1); r != 0 {
					t.Fatal(r)
				}
			}
		}
		var survivors [2][]uint32
		for k := range uint32(12) {
			binary.NativeEndian.PutUint32(key, k)
			for i, m := range ms {
				if m.LookupPtr(key, 0) != nil {
					survivors[i] = append(survivors[i], k)
				}
			}
		}
		if fmt.Sprint(survivors[0]) != fmt.Sprint(survivors[1]) || !strings.Contains(fmt.Sprint(survivors[1]), "2 ") {
			t.Errorf("%v: after evictions, LookupPtr's map holds %v, the JIT's %v", typ, survivors[0], survivors[1])
		}
	}
}

// TestHashLookupStress runs lookups in generated code on several
// goroutines while another deletes and inserts keys, so that walks race
// with links and unlinks and elements are reused for other keys. Values
// hold their key's number and are written before their element is linked.
// Stable keys (never deleted) must always be found with their value,
// absent keys never; other keys may be found or not, but a value found
// must be an element's, and its key's unless an element was freed (and so
// could be reused) during the lookup.
func TestHashLookupStress(t *testing.T) {
	dur := 500 * time.Millisecond
	if testing.Short() {
		dur = 200 * time.Millisecond
	}
	for _, size := range []uint32{5, 8, 20} {
		host := newMapHost()
		m, ptr := host.add(t, maps.Spec{Name: "h", Type: maps.Hash, KeySize: size, ValueSize: 16, MaxEntries: 32, Flags: maps.FlagZeroSeed}, 1)
		hm := m.(*maps.HashMap)
		d := hm.Inline()
		const stable, churn, absent = 8, 40, 8 // keys 0-7, 8-47, 48-55
		// All keys fall in two buckets: long chains keep walks long
		// enough for writers to relink the element a walk stands on.
		var keys [][]byte
		for id := uint64(0); len(keys) < stable+churn+absent; id++ {
			b := make([]byte, size)
			putKey(b, id)
			if hashOf(d, b)&d.Mask <= 1 {
				keys = append(keys, b)
			}
		}
		keyOf := func(k uint64) []byte { return keys[k] }
		put := func(k uint64) int64 {
			return hm.UpdateElem(keyOf(k), binary.NativeEndian.AppendUint64(binary.NativeEndian.AppendUint64(nil, k), ^k), 0, 0)
		}
		for k := range uint64(stable) {
			if r := put(k); r != 0 {
				t.Fatal(r)
			}
		}
		var deletes atomic.Uint64 // counted before each delete
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(size), 3))
			for {
				select {
				case <-stop:
					return
				default:
				}
				for range 4 {
					k := stable + rng.Uint64N(churn)
					deletes.Add(1)
					hm.DeleteElem(keyOf(k))
				}
				for range 6 {
					put(stable + rng.Uint64N(churn)) // may find the map full
				}
			}
		})
		e := amd64.NewWithOptions(amd64.Options{Maps: host.native})
		var checked atomic.Int64
		for g := range 3 {
			r := newKeyRunner(t, e, host, ptr, modes[g%len(modes)], 0)
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), uint64(size)))
				for {
					select {
					case <-stop:
						return
					default:
					}
					k := rng.Uint64N(stable + churn + absent)
					before := deletes.Load()
					p, word := r.lookup(t, keyOf(k))
					quiet := deletes.Load() == before
					var err error
					switch off := p - d.Values; {
					case k < stable && word != k:
						err = fmt.Errorf("stable key: value %#x", word)
					case k >= stable+churn && p != 0:
						err = fmt.Errorf("absent key: found %#x", p)
					case p == 0:
					case off >= uintptr(d.N)*uintptr(d.ValueStride) || off%uintptr(d.ValueStride) != 0:
						err = fmt.Errorf("pointer %#x is not a value (values at %#x)", p, d.Values)
					case quiet && word != k:
						err = fmt.Errorf("value %#x", word)
					}
					if quiet && k >= stable && k < stable+churn {
						checked.Add(1)
					}
					if err != nil {
						t.Errorf("key size %d, key %d (%v, g %d): %v; elem %d", size, k, r.rc.Mode, g, err, (p-d.Values)/uintptr(d.ValueStride))
						return
					}
				}
			})
		}
		// Run for dur, and on until a churned key's lookup ran without a
		// delete (normally long before): how many did depends on how a
		// busy machine schedules the goroutines, so only one is
		// required, within 30 s.
		time.Sleep(dur)
		for deadline := time.Now().Add(30 * time.Second); checked.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		if checked.Load() == 0 {
			t.Errorf("key size %d: no lookup of a churned key ran without a delete", size)
		}
	}
}

// TestHashLookupOptions checks InlineHash descriptions the engine must
// refuse.
func TestHashLookupOptions(t *testing.T) {
	host := newMapHost()
	m, ptr := host.add(t, maps.Spec{Name: "h", Type: maps.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 16}, 2)
	good, _ := host.native(ptr)
	bad := map[string]func(*amd64.InlineMap){
		"no Elem":        func(im *amd64.InlineMap) { im.Elem = nil },
		"key size 0":     func(im *amd64.InlineMap) { im.KeySize = 0 },
		"stride":         func(im *amd64.InlineMap) { im.Hash.Stride = 8 },
		"no elements":    func(im *amd64.InlineMap) { im.Hash.N = 0 },
		"mask":           func(im *amd64.InlineMap) { im.Hash.Mask = 6 },
		"stripe mask":    func(im *amd64.InlineMap) { im.Hash.StripeMask = 2 },
		"no heads":       func(im *amd64.InlineMap) { im.Hash.Heads = 0 },
		"lru no refs":    func(im *amd64.InlineMap) { im.Hash.LRU = true },
		"counter":        func(im *amd64.InlineMap) { im.Hash.SeqOffset = im.Hash.StripeSize },
		"value stride":   func(im *amd64.InlineMap) { im.Hash.ValueStride = 12 },
		"no slots":       func(im *amd64.InlineMap) { im.Slots = 0 },
		"slot stride":    func(im *amd64.InlineMap) { im.Hash.SlotStride = 8 },
		"no stripe size": func(im *amd64.InlineMap) { im.Hash.StripeSize = 0 },
	}
	prog, err := isa.Assemble(keyLookupSource(ptr))
	if err != nil {
		t.Fatal(err)
	}
	p := withFacts(&vm.Program{Instructions: prog, Helpers: helpers.New(host)})
	for name, change := range bad {
		im := good
		change(&im)
		e := amd64.NewWithOptions(amd64.Options{Maps: func(uint64) (amd64.InlineMap, bool) { return im, true }})
		var ce *vm.CompileError
		if _, err := e.Compile(p, vm.CompileOptions{}); !errors.As(err, &ce) || !strings.Contains(err.Error(), "hash map") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, ok := m.(*maps.HashMap); !ok {
		t.Fatal("not a hash map")
	}
}

// TestHashLookupObjdump compares the listing of hash map lookups with
// objdump's disassembly, when objdump is installed: the decoder must know
// every instruction the lookups use.
func TestHashLookupObjdump(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("objdump not installed")
	}
	host := newMapHost()
	e := amd64.NewWithOptions(amd64.Options{Maps: host.native})
	dir := t.TempDir()
	var files []string
	var listings [][]string
	for _, lm := range lookupMaps(t, host, 4) {
		prog, _ := isa.Assemble(lookupSource(lm.ptr, 1, true))
		for _, mode := range modes {
			exe, err := e.Compile(withFacts(&vm.Program{Instructions: prog, Helpers: helpers.New(host)}), vm.CompileOptions{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			blocks, err := amd64.Listing(exe)
			exe.Close()
			if err != nil {
				t.Fatal(err)
			}
			if err := checkListing(blocks, prog); err != nil {
				t.Errorf("%s (%v): %v", lm.name, mode, err)
			}
			var code []byte
			var ours []string
			for _, b := range blocks {
				code = append(code, b.Code...)
				for _, line := range b.Insns {
					_, text, _ := strings.Cut(line, "  ")
					ours = append(ours, normalize(strings.TrimSpace(text)))
				}
			}
			f := filepath.Join(dir, fmt.Sprintf("p%d-%v.bin", len(files), mode))
			if err := os.WriteFile(f, code, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
			listings = append(listings, ours)
		}
	}
	out, err := exec.Command(objdump, append([]string{"-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel"}, files...)...).Output()
	if err != nil {
		t.Skipf("objdump cannot disassemble x86-64: %v", err)
	}
	sections := strings.Split(string(out), "file format binary")[1:]
	if len(sections) != len(files) {
		t.Fatalf("objdump printed %d files, want %d", len(sections), len(files))
	}
	for i, sec := range sections {
		theirs := objdumpText(sec)
		if len(theirs) != len(listings[i]) {
			t.Errorf("%s: objdump shows %d instructions, the listing %d", filepath.Base(files[i]), len(theirs), len(listings[i]))
			continue
		}
		for j, ours := range listings[i] {
			if ours != theirs[j] {
				t.Errorf("%s: instruction %d: listing %q, objdump %q", filepath.Base(files[i]), j, ours, theirs[j])
				break
			}
		}
	}
}

// BenchmarkHashLookups is BenchmarkMapLookups's program on a hash map
// looked up in generated code.
func BenchmarkHashLookups(b *testing.B) {
	host := newMapHost()
	m, ptr := host.add(b, maps.Spec{Name: "table", Type: maps.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1024}, 1)
	fill(b, m)
	prog, err := isa.Assemble(fmt.Sprintf(lookups64, ptr))
	if err != nil {
		b.Fatal(err)
	}
	p := withFacts(&vm.Program{Instructions: prog, Helpers: helpers.New(host)})
	for _, mode := range modes {
		b.Run(mode.String(), func(b *testing.B) {
			exe, err := amd64.NewWithOptions(amd64.Options{Maps: host.native}).Compile(p, vm.CompileOptions{Mode: mode})
			if err != nil {
				b.Fatal(err)
			}
			defer exe.Close()
			rc := &vm.RunContext{Regions: host.regions()}
			ref, _ := interp.New().Compile(p, vm.CompileOptions{Mode: mode})
			if want, _ := ref.Run(rc); want != uint64(64*63/2*16*3)&3 {
				b.Fatalf("interpreter: %d", want)
			}
			for b.Loop() {
				exe.Run(rc)
			}
		})
	}
}
