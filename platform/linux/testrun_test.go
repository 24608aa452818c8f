package linux

import (
	"encoding/binary"
	"errors"
	"testing"
)

// The test-run rules read the __sk_buff table: tstamp, wire_len, gso_segs,
// gso_size and hwtstamp are taken at their Linux offsets, and a value at
// the offset of sk is refused (Linux's EINVAL), not read as another field.
func TestSKBTestRunContextOffsets(t *testing.T) {
	in := make([]byte, SKBContextSize)
	binary.NativeEndian.PutUint64(in[152:], 0x1122334455667788) // tstamp
	binary.NativeEndian.PutUint32(in[160:], 100)                // wire_len
	binary.NativeEndian.PutUint32(in[164:], 3)                  // gso_segs
	binary.NativeEndian.PutUint32(in[176:], 1400)               // gso_size
	binary.NativeEndian.PutUint64(in[184:], 0x99)               // hwtstamp
	var ctx SKBContext
	if err := ApplySKBTestRunContext(&ctx, in, 64); err != nil {
		t.Fatal(err)
	}
	if ctx.Tstamp != 0x1122334455667788 || ctx.WireLen != 100 || ctx.GSOSegs != 3 || ctx.GSOSize != 1400 || ctx.Hwtstamp != 0x99 {
		t.Errorf("applied %+v", ctx)
	}
	out := SKBTestRunContextOut(&ctx, in)
	if got := binary.NativeEndian.Uint64(out[152:]); got != 0x1122334455667788 {
		t.Errorf("ctx_out tstamp %#x", got)
	}

	for _, tt := range []struct {
		name string
		off  int
		v    uint32
	}{
		{"sk", 168, 1}, {"len", 0, 1}, {"tstamp_type", 180, 1}, {"ifindex 2", 40, 2},
		{"wire_len below the length", 160, 10}, {"wire_len too long", 160, 70000}, {"gso_segs", 164, 70000},
	} {
		in := make([]byte, SKBContextSize)
		binary.NativeEndian.PutUint32(in[tt.off:], tt.v)
		if err := ApplySKBTestRunContext(&ctx, in, 64); !errors.Is(err, ErrTestRunContext) {
			t.Errorf("%s: %v, want refused", tt.name, err)
		}
	}
}

func TestXDPTestRunContext(t *testing.T) {
	md := func(data, end, meta, ingress, rxq, egress uint32) []byte {
		b := make([]byte, XDPContextSize)
		for i, v := range []uint32{data, end, meta, ingress, rxq, egress} {
			binary.NativeEndian.PutUint32(b[4*i:], v)
		}
		return b
	}
	r, err := XDPTestRunContext(md(8, 64, 0, 0, 0, 0), 64)
	if err != nil || r.MetaLen != 8 || r.IngressIfindex != 1 {
		t.Errorf("meta 8: %+v, %v", r, err)
	}
	if _, err := XDPTestRunContext(md(220, 300, 0, 0, 0, 0), 300); !errors.Is(err, ErrTestRunContext) {
		t.Errorf("220 bytes of metadata (into struct xdp_frame): %v, want refused", err)
	}
	if _, err := XDPTestRunContext(md(216, 300, 0, 0, 0, 0), 300); err != nil {
		t.Errorf("216 bytes of metadata: %v", err)
	}
	// data_end below the data length: the rest goes into fragments.
	if r, err := XDPTestRunContext(md(0, 0, 0, 0, 0, 0), 64); err != nil || r.LinearLen != 0 {
		t.Errorf("data_end 0: %+v, %v, want a linear part of 0", r, err)
	}
	for name, in := range map[string][]byte{
		"data_meta": md(0, 64, 4, 0, 0, 0), "unaligned": md(6, 64, 0, 0, 0, 0), "short packet": md(52, 64, 0, 0, 0, 0),
		"egress": md(0, 64, 0, 0, 0, 1), "queue without device": md(0, 64, 0, 0, 1, 0), "device 2": md(0, 64, 0, 2, 0, 0),
		"past the data": md(0, 65, 0, 0, 0, 0),
	} {
		if _, err := XDPTestRunContext(in, 64); !errors.Is(err, ErrTestRunContext) {
			t.Errorf("%s: %v, want refused", name, err)
		}
	}
}
