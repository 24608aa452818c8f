package bpfhost

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// hostileCtxProgram is an unverified program that keeps its context
// pointer in a map value, where the classification of context accesses
// does not follow it, loads it back and stores 0x4141... of size bytes at
// host offset off of the context struct, then calls helper (if not 0)
// with the context, 0, a stack buffer and 8 (bpf_skb_load_bytes'
// arguments: a helper that reads the packet through the context's
// pointers), and returns ret. With prime >= 0 it first stores 4 bytes at
// host offset prime (a writable field) and loads the target bytes, so
// that the checked JIT's region search has just matched other entries of
// the context.
func hostileCtxProgram(section string, off, size int, helper platform.HelperID, ret, prime int) *CollectionSpec {
	pre := ""
	if prime >= 0 {
		pre = fmt.Sprintf("stw [%%r2+%d], 7\nldx%s %%r5, [%%r2+%d]\n", prime, map[int]string{1: "b", 4: "w", 8: "dw"}[size], off)
	}
	call := ""
	if helper != 0 {
		call = fmt.Sprintf("mov %%r1, %%r6\nmov %%r2, 0\nmov %%r3, %%r10\nadd %%r3, -16\nmov %%r4, 8\ncall %d\n", helper)
	}
	prog, err := isa.Assemble(fmt.Sprintf(`
		mov %%r6, %%r1
		stw [%%r10-4], 0
		lddw %%r1, 0
		mov %%r2, %%r10
		add %%r2, -4
		call 1
		jne %%r0, 0, +2
		mov %%r0, 0
		exit
		stxdw [%%r0+0], %%r6
		ldxdw %%r2, [%%r0+0]
		lddw %%r4, 0x4141414141414141
		%s
		stx%s [%%r2+%d], %%r4
		%s
		mov %%r0, %d
		exit`, pre, map[int]string{1: "b", 4: "w", 8: "dw"}[size], off, call, ret))
	if err != nil {
		panic(err)
	}
	prog[2].Src = isa.PseudoMapIdx
	return &CollectionSpec{
		Maps: []*MapSpec{{Name: "m", Type: uint32(maps.Array), KeySize: 4, ValueSize: 8, MaxEntries: 1}},
		Programs: []*ProgramSpec{{Name: "u", Section: section, License: "GPL", Instructions: prog,
			References: []object.Reference{{Slot: 2, Kind: object.RefMap, Name: "m", Map: 0}}}},
	}
}

// TestUnverifiedContextWrites: for every program type bpfhost runs on a
// host context struct (test runs of xdp, the __sk_buff types and
// flow_dissector; the sock_addr and sock hooks), an unverified program
// writes every aligned 1, 4 and 8 bytes of the struct through a context
// pointer it kept in a map value, then calls a helper that uses the
// context's packet pointers, on the checked interpreter and the checked
// JIT. Every run must end cleanly: without error only where the bytes
// written lie in fields the program type lets programs write, else with a
// refused access; never a Go panic, and the host's pointers (packet, sk)
// never one the program chose.
func TestUnverifiedContextWrites(t *testing.T) {
	types := []struct {
		section string
		helper  platform.HelperID // a helper that uses the context's pointers, or 0
		ret     int
	}{
		{"xdp", linux.FnXdpLoadBytes, 2},
		{"tc", linux.FnSkbLoadBytes, 0},
		{"socket", linux.FnSkbLoadBytes, 0},
		{"cgroup_skb/ingress", linux.FnSkbLoadBytes, 1},
		{"sk_skb", linux.FnSkbLoadBytes, 0},
		{"flow_dissector", linux.FnSkbLoadBytes, 0},
		{"cgroup/connect4", 0, 1},
		{"cgroup/sock_create", 0, 1},
	}
	packet := make([]byte, 64)
	copy(packet[12:], []byte{0x08, 0x00, 0x45})
	ran, refused := 0, 0
	for _, engine := range []Engine{EngineInterp, EngineJIT} {
		if engine.Available() != nil {
			continue
		}
		for _, tc := range types {
			info, ok := linux.Lookup(tc.section)
			if !ok || info.Context == nil || info.Context.Host == nil {
				t.Fatalf("%s: no host context", tc.section)
			}
			size := info.Context.Host.Size
			writable := ctxWritable(info.Context)
			for _, w := range []int{1, 4, 8} {
				for off := 0; off+w <= size; off += w {
					prime := -1
					if len(writable) > 0 && writable[0].end-writable[0].off >= 4 && writable[0].off%4 == 0 && (off/w)%2 == 1 {
						prime = writable[0].off
					}
					spec := hostileCtxProgram(tc.section, off, w, tc.helper, tc.ret, prime)
					c, err := NewCollection(spec, &CollectionOptions{Unverified: true, Engine: engine, Slots: 1})
					if err != nil {
						t.Fatalf("%s: %v", tc.section, err)
					}
					p := c.Programs["u"]
					err = runHostile(p, tc.section, packet)
					c.Close()
					if errors.Is(err, ErrNotSupported) {
						continue
					}
					ran++
					inField := false
					for _, s := range writable {
						inField = inField || off >= s.off && off+w <= s.end
					}
					var ae *vm.AccessError
					switch {
					case err == nil && !inField:
						t.Errorf("%s on %s: a %d-byte write at host offset %d, outside the writable fields %v, succeeded", tc.section, engine, w, off, writable)
					case err != nil && inField && !errors.As(err, &ae):
						// A writable field: the write is allowed; what
						// the program wrote there may still be refused
						// by the run (a bad length, a bad cb).
						if !errors.Is(err, ErrInvalid) {
							t.Errorf("%s on %s: a %d-byte write at host offset %d (writable): %v", tc.section, engine, w, off, err)
						}
					case err != nil && !inField:
						if !errors.As(err, &ae) || !ae.Write {
							t.Errorf("%s on %s: a %d-byte write at host offset %d: %v, want the write refused", tc.section, engine, w, off, err)
						}
						refused++
					}
				}
			}
		}
	}
	t.Logf("%d hostile runs, %d writes refused", ran, refused)
	if refused == 0 {
		t.Error("no write refused: the test checks nothing")
	}
}

// runHostile runs p once as its type runs: a test run on packet, or the
// sock_addr or sock hook on a fresh context.
func runHostile(p *Program, section string, packet []byte) error {
	switch p.info.Type {
	case linux.CGroupSockAddr:
		ctx, sk := &linux.SockAddrContext{UserFamily: 2, UserIP4: 0x0100007f, UserPort: 0x5000, Family: 2, Type: 1, Protocol: 6}, &linux.SockContext{Family: 2, Type: 1, Protocol: 6}
		_, err := p.RunSockAddr(ctx, sk, &SockRun{})
		if err == nil && ctx.SK != uint64(uintptr(unsafe.Pointer(sk))) {
			return fmt.Errorf("the run left sk %#x", ctx.SK)
		}
		return err
	case linux.CGroupSock:
		_, err := p.RunSock(&linux.SockContext{Family: 2, Type: 1, Protocol: 6}, &SockRun{})
		return err
	}
	_, err := p.Run(&RunOptions{Data: packet, DataOut: make([]byte, 0, 128)})
	return err
}

// TestUnverifiedRingbufHeaders: a ring buffer's data area, record headers
// included, is one writable region of checked runs (records are reserved
// anywhere in it), so an unverified program can write the header of a
// record it committed: a length of 1 GiB made the consumer slice past
// the ring (a Go panic in the reader, the process gone). The consumer
// now drops what no producer can have written; the program, on both
// engines, writes a length, then a length that runs past the producer,
// and records keep flowing after it.
func TestUnverifiedRingbufHeaders(t *testing.T) {
	for _, engine := range []Engine{EngineInterp, EngineJIT} {
		if engine.Available() != nil {
			continue
		}
		for _, bad := range []uint32{0x3fff_fff0, 4096, 24} {
			// bpf_ringbuf_output of 8 bytes (header at offset 0), then a
			// reserve of 8 (its data at 24): the first header is 24 bytes
			// below it.
			prog, err := isa.Assemble(fmt.Sprintf(`
				stdw [%%r10-8], 7
				lddw %%r1, 0
				mov %%r2, %%r10
				add %%r2, -8
				mov %%r3, 8
				mov %%r4, 0
				call 130
				lddw %%r1, 0
				mov %%r2, 8
				mov %%r3, 0
				call 131
				jne %%r0, 0, +2
				mov %%r0, 0
				exit
				stw [%%r0-24], %d
				mov %%r1, %%r0
				mov %%r2, 0
				call 132
				mov %%r0, 0
				exit`, bad))
			if err != nil {
				t.Fatal(err)
			}
			prog[1].Src, prog[8].Src = isa.PseudoMapIdx, isa.PseudoMapIdx
			spec := &CollectionSpec{
				Maps: []*MapSpec{{Name: "rb", Type: uint32(maps.RingBuf), MaxEntries: 4096}},
				Programs: []*ProgramSpec{{Name: "u", Section: "xdp", License: "GPL", Instructions: prog,
					References: []object.Reference{{Slot: 1, Kind: object.RefMap, Name: "rb", Map: 0}, {Slot: 8, Kind: object.RefMap, Name: "rb", Map: 0}}}},
			}
			c, err := NewCollection(spec, &CollectionOptions{Unverified: true, Engine: engine, Slots: 1})
			if err != nil {
				t.Fatal(err)
			}
			rb := c.Maps["rb"].m.(*maps.RingBufMap)
			for run := 0; run < 3; run++ {
				if _, err := c.Programs["u"].Run(&RunOptions{Data: make([]byte, 64)}); err != nil {
					t.Fatalf("%s, header %#x: run %d: %v", engine, bad, run, err)
				}
				// What the reader finds is up to the ring; it must not
				// panic, and must come back with records no longer than
				// the ring.
				for {
					rec, ok := rb.TryRead(nil)
					if !ok {
						break
					}
					if len(rec) > rb.Size() {
						t.Fatalf("%s, header %#x: a record of %d bytes from a ring of %d", engine, bad, len(rec), rb.Size())
					}
				}
			}
			// The ring still works: an honest record goes through.
			if ret := rb.Output([]byte("honest!!"), 0); ret != 0 {
				t.Fatalf("%s, header %#x: output after the runs: %d", engine, bad, ret)
			}
			if rec, ok := rb.TryRead(nil); !ok || string(rec) != "honest!!" {
				t.Errorf("%s, header %#x: after the runs, read %q, %v", engine, bad, rec, ok)
			}
			c.Close()
		}
	}
}

// TestUnverifiedContextPointers: an unverified tc program (checked
// interpreter) that keeps its context pointer in a map value, where the
// classification of context accesses does not follow it, could write the
// host sk_buff's data pointer, which lay in the context's writable
// region; the test run then sliced the packet buffer with it, and the
// process died of a Go panic. The run then ended with ErrInvalid from a
// check after the run; now the write itself is refused: only the
// writable fields are writable regions (ctxregions.go).
func TestUnverifiedContextPointers(t *testing.T) {
	var sc linux.SKBContext
	spec := hostileCtxProgram("tc", int(unsafe.Offsetof(sc.Data)), 8, 0, 0, -1)
	coll, err := NewCollection(spec, &CollectionOptions{Unverified: true, Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	_, err = coll.Programs["u"].Run(&RunOptions{Data: make([]byte, 64), DataOut: make([]byte, 0, 64)})
	var ae *vm.AccessError
	if !errors.As(err, &ae) || !ae.Write || !strings.Contains(err.Error(), "read-only context") {
		t.Errorf("run: %v, want the write refused in the read-only context", err)
	}
}
