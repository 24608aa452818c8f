package bpfhost_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/jit"
)

// TestCheckedOptions checks which engine and mode the options select:
// Checked compiles verified programs in checked mode on either engine, and
// Unverified runs in the checked interpreter by default and in the checked
// JIT when Engine is "jit".
func TestCheckedOptions(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	jitEngine := bpfhost.EngineJIT
	if jit.Available() != nil {
		jitEngine = bpfhost.EngineInterp // the JIT falls back
	}
	for _, tt := range []struct {
		opts        bpfhost.CollectionOptions
		engine      bpfhost.Engine
		wantChecked bool
	}{
		{bpfhost.CollectionOptions{Engine: "jit"}, jitEngine, false},
		{bpfhost.CollectionOptions{Engine: "jit", Checked: true}, jitEngine, true},
		{bpfhost.CollectionOptions{Engine: "interp", Checked: true}, "interp", true},
		{bpfhost.CollectionOptions{Engine: "jit", Unverified: true}, jitEngine, true},
		{bpfhost.CollectionOptions{Unverified: true}, "interp", true},
		{bpfhost.CollectionOptions{Checked: true}, jitEngine, true},
	} {
		coll, err := bpfhost.NewCollection(spec, &tt.opts)
		if err != nil {
			t.Fatalf("%+v: %v", tt.opts, err)
		}
		p := coll.Programs["xdp_firewall"]
		if p.Engine() != tt.engine || p.Checked() != tt.wantChecked {
			t.Errorf("%+v: engine %s checked %v, want %s checked %v", tt.opts, p.Engine(), p.Checked(), tt.engine, tt.wantChecked)
		}
		pkt := ipv4Packet([4]byte{10, 1, 2, 3})
		if r, err := p.Run(&bpfhost.RunOptions{Data: pkt}); err != nil || r != 2 {
			t.Errorf("%+v: run: %d, %v; want XDP_PASS", tt.opts, r, err)
		}
		coll.Close()
	}
}

// wildResult is what a checked run of a wild program ends with, in terms
// that do not depend on where the collection's memory is.
type wildResult struct {
	r0    uint32
	fault string // "" or the faulting instruction and access
	data  []byte
}

func (r wildResult) String() string {
	return fmt.Sprintf("r0=%d fault=%q data=%x", r.r0, r.fault, r.data)
}

// TestCheckedWild runs the programs of testdata/checked/wild.o unverified:
// stores, loads and atomics at addresses and indexes taken from the packet,
// and helpers given such addresses. The checked JIT must end each run as
// the checked interpreter does (the same result, or a fault at the same
// instruction for the same access) and leave the same memory; addresses
// outside the run's memory, such as a Go buffer of the test, must fault and
// stay untouched.
func TestCheckedWild(t *testing.T) {
	if jit.Available() != nil {
		t.Skip(jit.Available())
	}
	spec, err := bpfhost.LoadCollectionSpec("testdata/checked/wild.o")
	if err != nil {
		t.Fatal(err)
	}
	load := func(engine bpfhost.Engine) *bpfhost.Collection {
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Unverified: true, Slots: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { coll.Close() })
		return coll
	}
	ref, got := load("interp"), load("jit")
	secret := bytes.Repeat([]byte{0x5a}, 64)
	defer runtime.KeepAlive(secret)
	secretAddr := uint64(uintptr(unsafe.Pointer(&secret[0])))

	// Words 0 and 1 of the packet: an address or index, and a key.
	firsts := []uint64{0, 1, 3, 4, 5, 7, 8, 63, 64, 100, 1 << 20, 1 << 40, ^uint64(0), ^uint64(3), 0x41414141,
		0xffff800000000000, secretAddr, secretAddr + 60, 16, 32, 1 << 31, 1<<32 - 1, 0xfffffff8}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 16 {
		firsts = append(firsts, rng.Uint64())
	}
	faults, runs := 0, 0
	for _, name := range []string{"wild_store", "wild_load", "wild_atomic", "packet_offset", "array_index", "percpu_index",
		"hash_index", "hash_null", "lookup_wild_key", "hash_wild_key", "update_wild_value", "probe_read_wild_dst",
		"ringbuf_wild_data", "stack_index"} {
		rp, gp := ref.Programs[name], got.Programs[name]
		if rp == nil || gp == nil {
			t.Fatalf("no program %q", name)
		}
		if gp.Engine() != "jit" || !gp.Checked() || rp.Engine() != "interp" || !rp.Checked() {
			t.Fatalf("%s: engines %s (checked %v) and %s (checked %v)", name, rp.Engine(), rp.Checked(), gp.Engine(), gp.Checked())
		}
		for i, first := range firsts {
			if layoutDependent(name, first, uint64(i)) {
				continue
			}
			pkt := make([]byte, 64)
			binary.LittleEndian.PutUint64(pkt, first)
			binary.LittleEndian.PutUint64(pkt[8:], uint64(i))
			want, have := wildRun(rp, pkt), wildRun(gp, pkt)
			runs++
			if want.String() != have.String() {
				t.Errorf("%s on %#x: checked JIT %v, checked interpreter %v", name, first, have, want)
			}
			if want.fault != "" {
				faults++
			}
			if (first == secretAddr || first == secretAddr+60) && name != "packet_offset" && name != "array_index" &&
				name != "percpu_index" && name != "hash_index" && name != "stack_index" && want.fault == "" {
				t.Errorf("%s on the test's own buffer: no fault (%v)", name, want)
			}
		}
	}
	if !bytes.Equal(secret, bytes.Repeat([]byte{0x5a}, 64)) {
		t.Errorf("a checked run wrote memory it was never given: %x", secret)
	}
	for _, m := range []string{"arr", "pcpu", "hash"} {
		a := ref.Maps[m].Unwrap().(interface{ ValueMemory() []byte }).ValueMemory()
		b := got.Maps[m].Unwrap().(interface{ ValueMemory() []byte }).ValueMemory()
		if !bytes.Equal(a, b) {
			t.Errorf("map %s differs after the runs:\n interp %x\n jit    %x", m, a, b)
		}
	}
	if faults < 100 {
		t.Errorf("only %d runs faulted: the inputs do not exercise checked mode", faults)
	}
	t.Logf("%d of %d runs faulted", faults, runs)
}

// layoutDependent reports whether program name's access for input word
// first (and key word key) lands near its value but outside the memory
// whose layout the program's collection fixes. Map values and stacks are
// Go heap objects (decision 0003): what lies just past one is wherever the
// allocator put its neighbours, sometimes another region of the same
// collection (the run may touch it) and sometimes not (a fault), so the
// two collections of TestCheckedWild may differ there without either
// engine being wrong. Accesses inside the known window, or at least 1 GiB
// away (outside any collection's regions), are compared.
func layoutDependent(name string, first, key uint64) bool {
	off := int64(first * 8) // the byte offset of slots[first] from the value
	var lo, hi int64        // the window whose layout the collection fixes
	switch name {
	case "array_index":
		k := int64(key & 7)
		if k >= 4 {
			return false // no such key: the lookup fails first
		}
		lo, hi = -32*k, 128-32*k // arr's four 32-byte values, one slab
	case "percpu_index", "hash_index":
		lo, hi = 0, 32 // the value itself
	case "stack_index":
		lo, hi = -(512 - 32), 32 // buf[4] at the top of frame 0's 512 bytes
	default:
		return false
	}
	const far = 1 << 30
	return (off < lo || off >= hi) && off > -far && off < far
}

// wildRun runs p once on a copy of pkt.
func wildRun(p *bpfhost.Program, pkt []byte) wildResult {
	opts := &bpfhost.RunOptions{Data: append([]byte(nil), pkt...), DataOut: []byte{}}
	r0, err := p.Run(opts)
	res := wildResult{r0: r0, data: opts.DataOut}
	var ee *vm.ExecError
	var ae *vm.AccessError
	switch {
	case err == nil:
	case errors.As(err, &ee) && errors.As(err, &ae):
		// The address of a fault relative to the collection's memory
		// differs between collections; the instruction, size and
		// direction do not.
		res.fault = fmt.Sprintf("pc %d: %d-byte write=%v", ee.PC, ae.Size, ae.Write)
		res.data = nil
	default:
		res.fault = "error: " + err.Error()
		res.data = nil
	}
	return res
}

// TestCheckedTailCalls checks that tail calls into or out of checked
// programs stay in one collection: a program of another collection in the
// program array counts as an empty slot, so that a trusted program never
// runs unchecked inside a checked run, and a checked program never runs
// with another collection's memory as its regions.
func TestCheckedTailCalls(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/dispatcher.o")
	if err != nil {
		t.Fatal(err)
	}
	load := func(opts bpfhost.CollectionOptions) *bpfhost.Collection {
		coll, err := bpfhost.NewCollection(spec, &opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { coll.Close() })
		return coll
	}
	checked, trusted, other := load(bpfhost.CollectionOptions{Checked: true}), load(bpfhost.CollectionOptions{}), load(bpfhost.CollectionOptions{Checked: true})
	udp := ipv4Packet([4]byte{10, 0, 0, 1})
	for _, tt := range []struct {
		name   string
		target *bpfhost.Program
		want   uint32
	}{
		{"own checked program", checked.Programs["handle_icmp"], 3},                 // XDP_TX
		{"checked program of another collection", other.Programs["handle_icmp"], 2}, // XDP_PASS
		{"trusted program", trusted.Programs["handle_icmp"], 2},                     // falls through: XDP_PASS
	} {
		if err := checked.Maps["jump_table"].Put(uint32(17), tt.target); err != nil {
			t.Fatal(err)
		}
		got, err := checked.Programs["xdp_dispatch"].Run(&bpfhost.RunOptions{Data: udp})
		if err != nil || got != tt.want {
			t.Errorf("%s in the checked dispatcher's table: %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
	// Nor does the trusted dispatcher call a checked handler of another
	// collection; its own handlers it does.
	for _, tt := range []struct {
		target *bpfhost.Program
		want   uint32
	}{{checked.Programs["handle_icmp"], 2}, {trusted.Programs["handle_icmp"], 3}} {
		if err := trusted.Maps["jump_table"].Put(uint32(17), tt.target); err != nil {
			t.Fatal(err)
		}
		if got, err := trusted.Programs["xdp_dispatch"].Run(&bpfhost.RunOptions{Data: udp}); err != nil || got != tt.want {
			t.Errorf("trusted dispatcher calling %s (checked %v): %d, %v; want %d", tt.target.Name(), tt.target.Checked(), got, err, tt.want)
		}
	}
}

// TestCheckedEscapes runs the reproducers of ../shared/security/escapes,
// programs an earlier verifier accepted although they write outside their
// memory, unverified in the checked JIT and the checked interpreter: each
// run must end the same way in both, with a result or a fault, and the
// process must survive (e4's poisoned spin lock ends with
// helpers.ErrLockStuck). It needs clang-19 to build them.
func TestCheckedEscapes(t *testing.T) {
	if jit.Available() != nil {
		t.Skip(jit.Available())
	}
	dir := filepath.Join("..", "shared", "security", "escapes")
	sources, _ := filepath.Glob(filepath.Join(dir, "*.c"))
	if len(sources) == 0 {
		t.Skipf("no reproducers in %s", dir)
	}
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 is needed to build the reproducers")
	}
	out := t.TempDir()
	ran, faults := 0, 0
	for _, src := range sources {
		base := strings.TrimSuffix(filepath.Base(src), ".c")
		obj := filepath.Join(out, base+".o")
		cmd := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-I/usr/include/"+archTriple(), "-I"+dir, "-c", src, "-o", obj)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", base, err, b)
		}
		spec, err := bpfhost.LoadCollectionSpec(obj)
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		var colls [2]*bpfhost.Collection
		for i, engine := range bpfhost.Engines() {
			if colls[i], err = bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Unverified: true, Slots: 1}); err != nil {
				t.Fatalf("%s on %s: %v", base, engine, err)
			}
			defer colls[i].Close()
		}
		for name, rp := range colls[0].Programs {
			gp := colls[1].Programs[name]
			for _, size := range []int{0, 14, 64, 1500, 70000} {
				pkt := make([]byte, size)
				for j := range pkt {
					pkt[j] = byte(j * 7)
				}
				want, have := wildRun(rp, pkt), wildRun(gp, pkt)
				if want.String() != have.String() {
					t.Errorf("%s/%s on %d bytes: checked JIT %v, checked interpreter %v", base, name, size, have, want)
				}
				ran++
				if strings.HasPrefix(want.fault, "pc ") {
					faults++
				}
			}
		}
	}
	t.Logf("%d runs, %d ended by an access fault", ran, faults)
	if faults == 0 {
		t.Error("no run reached a reproducer's bad access")
	}
}

// archTriple is the Debian multiarch directory of the host's headers.
func archTriple() string {
	if runtime.GOARCH == "arm64" {
		return "aarch64-linux-gnu"
	}
	return "x86_64-linux-gnu"
}

// TestCheckedConcurrentRuns runs the example firewall checked on the JIT
// from several goroutines at once on packets of changing sizes (so that
// each slot's region table is kept, then refilled for another packet
// region): every verdict must be the trusted run's.
func TestCheckedConcurrentRuns(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	var colls [2]*bpfhost.Collection
	for i, checked := range []bool{false, true} {
		if colls[i], err = bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: "jit", Checked: checked, Slots: 2}); err != nil {
			t.Fatal(err)
		}
		defer colls[i].Close()
		if err := colls[i].Maps["blocklist_v4"].Put(lpmKey(24, [4]byte{10, 1, 2, 0}), uint32(7)); err != nil {
			t.Fatal(err)
		}
	}
	runs := 2000
	if testing.Short() {
		runs = 300
	}
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range runs {
				pkt := ipv4Packet([4]byte{10, 1, byte(1 + rng.IntN(2)), byte(rng.Uint32())})
				pkt = append(pkt, make([]byte, rng.IntN(3)*20)...)
				var got [2]uint32
				for i, c := range colls {
					r, err := c.Programs["xdp_firewall"].Run(&bpfhost.RunOptions{Data: pkt})
					if err != nil {
						errs <- err
						return
					}
					got[i] = r
				}
				if got[0] != got[1] {
					errs <- fmt.Errorf("%x: trusted %d, checked %d", pkt, got[0], got[1])
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// lpmKey is an IPv4 key of the firewall's blocklist.
func lpmKey(prefix uint32, addr [4]byte) []byte {
	k := binary.LittleEndian.AppendUint32(nil, prefix)
	return append(k, addr[:]...)
}
