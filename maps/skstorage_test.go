package maps

import (
	"errors"
	"sync/atomic"
	"testing"
	"unsafe"
)

func skSpec(vs uint32) Spec {
	return Spec{Name: "stg", Type: SkStorage, KeySize: 4, ValueSize: vs, Flags: FlagNoPrealloc}
}

// New checks an sk storage spec as bpf_local_storage_map_alloc_check
// does (TestSkStorageSpecKernel asks the kernel the same).
var skStorageSpecCases = []struct {
	name string
	spec Spec
	want Errno
}{
	{"ok", skSpec(12), 0},
	{"largest value", skSpec(skStorageMaxValue), 0},
	{"value too large", skSpec(skStorageMaxValue + 1), E2BIG},
	{"no value", skSpec(0), EINVAL},
	{"max entries", func() Spec { s := skSpec(8); s.MaxEntries = 1; return s }(), EINVAL},
	{"preallocated", func() Spec { s := skSpec(8); s.Flags = 0; return s }(), EINVAL},
	{"key size 8", func() Spec { s := skSpec(8); s.KeySize = 8; return s }(), EINVAL},
	{"BPF_F_CLONE", func() Spec { s := skSpec(8); s.Flags |= 1 << 9; return s }(), 0},
	{"BPF_F_RDONLY_PROG", func() Spec { s := skSpec(8); s.Flags |= FlagRdOnlyProg; return s }(), EINVAL},
}

func TestSkStorageSpec(t *testing.T) {
	for _, c := range skStorageSpecCases {
		_, err := New(c.spec, 1)
		if got := ErrnoOf(err); got != c.want {
			t.Errorf("%s: %v, want errno %d", c.name, err, c.want)
		}
	}
	// The capacity: 65,536 sockets, fewer for large values.
	for _, c := range []struct{ vs, want uint32 }{{8, SkStorageSockets}, {skStorageMaxValue, SkStorageMemory / (skStorageMaxValue + 1)}} {
		m, err := New(skSpec(c.vs), 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.(*SkStorageMap).Capacity(); got != int(c.want) {
			t.Errorf("value size %d: capacity %d, want %d", c.vs, got, c.want)
		}
	}
}

// Programs get a value per socket, made on request from a template or
// zeros, kept where it is, and deleted; a full map sweeps the values of
// sockets no process holds.
func TestSkStorageProgramSide(t *testing.T) {
	// A small map, to fill it quickly (under the race detector too).
	spec, slots, err := prepare(skSpec(8), 1)
	if err != nil {
		t.Fatal(err)
	}
	sm := newSkStorageCapacity(base{spec: spec, slots: slots}, 64)
	a, b := SocketID{Cookie: 1, Inode: 11}, SocketID{Cookie: 2, Inode: 12}
	if p, _ := sm.StorageGet(a, nil, false); p != nil {
		t.Fatal("a value without create")
	}
	init := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	pa, created := sm.StorageGet(a, init, true)
	if pa == nil || !created || *(*[8]byte)(pa) != [8]byte{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Fatalf("created %v, %v", pa, created)
	}
	(*(*[8]byte)(pa))[0] = 9
	if p, created := sm.StorageGet(a, nil, true); p != pa || created {
		t.Errorf("second get: %v (created %v), want the first value %v", p, created, pa)
	}
	pb, _ := sm.StorageGet(b, nil, true)
	if pb == nil || pb == pa || *(*[8]byte)(pb) != [8]byte{} {
		t.Errorf("another socket's value: %v", pb)
	}
	if r := sm.StorageDelete(a); r != 0 {
		t.Errorf("delete = %d", r)
	}
	if r := sm.StorageDelete(a); r != ENOENT.Ret() {
		t.Errorf("second delete = %d, want -ENOENT", r)
	}
	if p, _ := sm.StorageGet(a, nil, false); p != nil {
		t.Error("a value after delete")
	}
	// Fill the map: socket 2 (inode 12) is held by a process, the others
	// are closed; the next create sweeps them.
	sm.liveInodes = func() (map[uint64]bool, error) { return map[uint64]bool{12: true}, nil }
	for c := uint64(3); c < 3+uint64(sm.Capacity())-1; c++ {
		if p, _ := sm.StorageGet(SocketID{Cookie: c, Inode: 100 + c}, nil, true); p == nil {
			t.Fatalf("socket %d of %d: no value", c, sm.Capacity())
		}
	}
	extra := SocketID{Cookie: 1 << 40, Inode: 99}
	if p, _ := sm.StorageGet(extra, nil, true); p == nil {
		t.Fatal("no value after a sweep")
	}
	if p, _ := sm.StorageGet(b, nil, false); p != pb {
		t.Error("the sweep dropped a value of a socket that is held")
	}
	if p, _ := sm.StorageGet(SocketID{Cookie: 3, Inode: 103}, nil, false); p != nil {
		t.Error("the sweep kept a value of a closed socket")
	}
	// A full map whose sockets are all held makes no value.
	sm.liveInodes = func() (map[uint64]bool, error) { return nil, errors.New("no /proc") }
	for c := uint64(0); c <= uint64(sm.Capacity()); c++ {
		sm.StorageGet(SocketID{Cookie: 1<<42 + c, Inode: 7}, nil, true)
	}
	if p, _ := sm.StorageGet(SocketID{Cookie: 1 << 41}, nil, true); p != nil {
		t.Error("a value in a full map")
	}
}

// Runs on several slots make, read and delete values of the same sockets
// while full maps sweep: no race (go test -race), and every value a get
// returns is one of the map's (writes to it stay in the map's memory).
func TestSkStorageConcurrent(t *testing.T) {
	spec, slots, err := prepare(skSpec(8), 4)
	if err != nil {
		t.Fatal(err)
	}
	sm := newSkStorageCapacity(base{spec: spec, slots: slots}, 16)
	sm.liveInodes = func() (map[uint64]bool, error) { return map[uint64]bool{1: true}, nil }
	mem := sm.ValueMemory()
	lo, hi := uintptr(unsafe.Pointer(&mem[0])), uintptr(unsafe.Pointer(&mem[0]))+uintptr(len(mem))
	done := make(chan string, 4)
	for g := 0; g < 4; g++ {
		go func(g int) {
			for i := 0; i < 2000; i++ {
				id := SocketID{Cookie: uint64(i%40 + 1), Inode: uint64(i % 3)}
				p, _ := sm.StorageGet(id, nil, true)
				if p != nil {
					if a := uintptr(p); a < lo || a+8 > hi {
						done <- "a value outside the map's memory"
						return
					}
					atomic.AddUint64((*uint64)(p), 1)
				}
				if i%7 == g {
					sm.StorageDelete(id)
				}
			}
			done <- ""
		}(g)
	}
	for g := 0; g < 4; g++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}
