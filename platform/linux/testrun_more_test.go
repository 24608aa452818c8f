package linux

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzSKLookupTestRunContext: any bytes give a context of the structure's
// size or ErrTestRunContext, never a panic; an accepted context has no
// socket, a supported family, 16-bit family and protocol values, zero
// padding and nothing after local_port.
func FuzzSKLookupTestRunContext(f *testing.F) {
	ok := make([]byte, SKLookupContextSize)
	binary.NativeEndian.PutUint32(ok[8:], afInet6)
	binary.NativeEndian.PutUint32(ok[60:], 443)
	f.Add(ok)
	f.Add(make([]byte, SKLookupContextSize))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		ctx, err := SKLookupTestRunContext(in)
		if err != nil {
			if !errors.Is(err, ErrTestRunContext) {
				t.Fatalf("error %v is not ErrTestRunContext", err)
			}
			return
		}
		u32 := func(off int) uint32 { return binary.NativeEndian.Uint32(ctx[off:]) }
		fam := u32(8)
		switch {
		case len(ctx) != SKLookupContextSize:
			t.Fatalf("%d bytes", len(ctx))
		case binary.NativeEndian.Uint64(ctx) != 0:
			t.Fatal("a socket")
		case fam != afInet && fam != afInet6:
			t.Fatalf("family %d", fam)
		case u32(12) > 0xffff || u32(60) > 0xffff:
			t.Fatalf("protocol %d, local port %d", u32(12), u32(60))
		case ctx[38] != 0 || ctx[39] != 0 || u32(64) != 0 || u32(68) != 0:
			t.Fatalf("padding or ingress_ifindex set: %x", ctx)
		}
	})
}

// FuzzFlowDissectorTestRunFlags: only the flags of a struct bpf_flow_keys
// of the right size are accepted.
func FuzzFlowDissectorTestRunFlags(f *testing.F) {
	f.Add(make([]byte, FlowKeysSize))
	f.Add(append(make([]byte, 48), 1, 0, 0, 0, 0, 0, 0, 0))
	f.Add(append(make([]byte, 52), 1, 0, 0, 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		flags, err := FlowDissectorTestRunFlags(in)
		if err != nil {
			if !errors.Is(err, ErrTestRunContext) {
				t.Fatalf("error %v is not ErrTestRunContext", err)
			}
			return
		}
		want := make([]byte, FlowKeysSize)
		binary.NativeEndian.PutUint32(want[48:], flags)
		if string(in) != string(want) {
			t.Fatalf("accepted %x: more than flags %#x set", in, flags)
		}
	})
}

// TestFlowDissectorClamp: after the run nhoff is clamped into [nhoff,
// hlen] and thoff into [nhoff, hlen], as bpf_flow_dissect does.
func TestFlowDissectorClamp(t *testing.T) {
	keys := make([]byte, FlowKeysSize)
	for _, tt := range []struct{ nh, th, wantNh, wantTh uint16 }{
		{20, 40, 20, 40}, {2, 3, 14, 14}, {9000, 3, 100, 100}, {30, 20, 30, 30}, {14, 9000, 14, 100},
	} {
		binary.NativeEndian.PutUint16(keys[0:], tt.nh)
		binary.NativeEndian.PutUint16(keys[2:], tt.th)
		FlowDissectorFinish(keys, 14, 100)
		if nh, th := binary.NativeEndian.Uint16(keys[0:]), binary.NativeEndian.Uint16(keys[2:]); nh != tt.wantNh || th != tt.wantTh {
			t.Errorf("nhoff %d thoff %d: %d, %d; want %d, %d", tt.nh, tt.th, nh, th, tt.wantNh, tt.wantTh)
		}
	}
}
