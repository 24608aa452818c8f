package helpers

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// fakeSockets makes every lookup find a socket describing the lookup (its
// destination port as the local port) and records the last one.
func fakeSockets(t *testing.T) *SockLookup {
	t.Helper()
	var last SockLookup
	saved := lookupHost
	lookupHost = func(q *SockLookup, out *linux.SockContext, _ *maps.SocketID, _ *[sockScratch]byte) bool {
		last = *q
		*out = linux.SockContext{Family: 2, SrcPort: uint32(q.Tuple.DstPort), State: 10}
		return true
	}
	t.Cleanup(func() { lookupHost = saved })
	return &last
}

// TestSocketHelpers: the lookup helpers' arguments (Linux's tuple sizes,
// flags and netns rules, the tuple's byte order, the device), the pool's
// bound, and in checked runs the read-only region of each held socket,
// which release removes.
func TestSocketHelpers(t *testing.T) {
	last := fakeSockets(t)
	h := &impl{}
	lookup := skLookup(h, "bpf_sk_lookup_tcp", ipprotoTCP, true)
	release := skRelease(h)
	ctx := &linux.SKBContext{Ifindex: 3}
	run := &Run{Program: linux.SchedCLS, Ctx: unsafe.Pointer(ctx)}
	tuple := inHeap([]byte{10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0, 80, 0}) // 10.0.0.1:40000 -> 10.0.0.2:80
	rc := &vm.RunContext{Value: run, Mode: vm.Checked, Regions: []vm.Region{vm.RegionOf("tuple", tuple, false)}}
	ta := uint64(uintptr(unsafe.Pointer(&tuple[0])))
	const current = 0xffffffff // BPF_F_CURRENT_NETNS as a u32 argument: low 32 bits negative

	for _, c := range []struct {
		name        string
		size, netns uint64
		flags       uint64
		found       bool
	}{
		{"ipv4", 12, current, 0, true},
		{"64-bit current netns", 12, ^uint64(0), 0, true},
		{"size 13", 13, current, 0, false},
		{"size 0", 0, current, 0, false},
		{"flags", 12, current, 1, false},
		{"netns id 0", 12, 0, 0, false},
		{"netns above S32_MAX", 12, 0x1_0000_0005, 0, false},
	} {
		r, err := lookup(rc, uint64(uintptr(unsafe.Pointer(ctx))), ta, c.size, c.netns, c.flags)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if (r != 0) != c.found {
			t.Errorf("%s: lookup returned %#x, want found=%v", c.name, r, c.found)
		}
		if r != 0 {
			if _, err := release(rc, r, 0, 0, 0, 0); err != nil {
				t.Errorf("%s: release: %v", c.name, err)
			}
		}
	}
	if q := *last; q.Tuple.SrcPort != 40000 || q.Tuple.DstPort != 80 || q.Tuple.Src[3] != 1 || q.Tuple.Dst[3] != 2 || q.Ifindex != 3 || !q.Full || q.Protocol != ipprotoTCP || q.Tuple.V6 {
		t.Errorf("lookup asked %+v", q)
	}

	// A held socket is readable, not writable, until released.
	sk, _ := lookup(rc, uint64(uintptr(unsafe.Pointer(ctx))), ta, 12, current, 0)
	if err := rc.Check(sk+44, 4, false); err != nil {
		t.Errorf("read of a held socket: %v", err)
	}
	if err := rc.Check(sk+16, 4, true); err == nil {
		t.Error("write to a held socket allowed")
	}
	if got := (*linux.SockContext)(vm.Pointer(sk)).SrcPort; got != 80 {
		t.Errorf("socket src_port %d, want 80", got)
	}
	if _, err := release(rc, sk, 0, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := rc.Check(sk+44, 4, false); err == nil {
		t.Error("read of a released socket allowed")
	}
	if _, err := release(rc, sk, 0, 0, 0, 0); !errors.Is(err, ErrBadSocket) {
		t.Errorf("second release: %v, want ErrBadSocket", err)
	}

	// At most maxHeldSockets at once; Release gives them all back.
	held := 0
	for i := 0; i < maxHeldSockets+3; i++ {
		if r, _ := lookup(rc, uint64(uintptr(unsafe.Pointer(ctx))), ta, 12, current, 0); r != 0 {
			held++
		}
	}
	if held != maxHeldSockets {
		t.Errorf("%d sockets held at once, want %d", held, maxHeldSockets)
	}
	run.Release()
	if len(rc.Regions) != 1 {
		t.Errorf("%d regions after Release, want the tuple's alone", len(rc.Regions))
	}
	n := 0
	run.HeldSockets(func(uint64) { n++ })
	if n != 0 {
		t.Errorf("%d sockets held after Release", n)
	}
	// A trusted run's release of something else is ignored, as Linux
	// cannot see one.
	rc.Mode = vm.Trusted
	if r, err := release(rc, ta, 0, 0, 0, 0); r != 0 || err != nil {
		t.Errorf("trusted release of a non-socket: %d, %v", r, err)
	}
}

// TestSocketLookupNoRun: a lookup without the run's state is an error, not
// a crash.
func TestSocketLookupNoRun(t *testing.T) {
	fakeSockets(t)
	lookup := skLookup(&impl{}, "bpf_sk_lookup_udp", ipprotoUDP, true)
	if _, err := lookup(&vm.RunContext{}, 0, 0, 12, 0xffffffff, 0); !errors.Is(err, ErrNoRun) {
		t.Errorf("got %v, want ErrNoRun", err)
	}
}
