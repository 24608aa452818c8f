package helpers

import (
	"bytes"
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// xdpFragsEnv is xdpEnv (a 64-byte linear packet) with fragments of the
// given sizes, each in a page; bytes count up across the whole packet.
func xdpFragsEnv(t *testing.T, sizes ...int) (*env, *Run, *linux.XDPContext, uint64) {
	e, run, x, cp := xdpEnv(t, 0)
	n := 0
	for i := 256; i < 256+64; i++ {
		run.Packet[i] = byte(n)
		n++
	}
	for _, s := range sizes {
		f := make([]byte, s, 4096)
		for i := range f {
			f[i] = byte(n)
			n++
		}
		run.Frags = append(run.Frags, f)
	}
	return e, run, x, cp
}

// TestXDPFrags: the helpers that take the whole packet see the fragments
// after the linear part (TestAgreementMoreTestRuns checks the same against
// the kernel): the length, loads and stores across the boundaries, the
// tail grown in the last fragment's page and shrunk through the fragments
// into the linear part. They used to see the linear part only.
func TestXDPFrags(t *testing.T) {
	e, run, x, cp := xdpFragsEnv(t, 100, 50)
	if n := e.mustCall(linux.FnXdpGetBuffLen, cp); n != 214 {
		t.Fatalf("buff len %d, want 214", n)
	}
	buf, bp := e.mem("buf", 16, true)
	// Bytes 60..75: the linear part's last 4 and the first fragment's 12.
	if r := e.mustCall(linux.FnXdpLoadBytes, cp, 60, bp, 16); r != 0 {
		t.Fatalf("load across: %d", r)
	}
	for i, b := range buf {
		if b != byte(60+i) {
			t.Fatalf("load across: %x", buf)
		}
	}
	// Bytes 160..175 span the two fragments; 210..225 run past the end.
	copy(buf, bytes.Repeat([]byte{0xee}, 16))
	if r := e.mustCall(linux.FnXdpStoreBytes, cp, 160, bp, 16); r != 0 {
		t.Fatalf("store across: %d", r)
	}
	if !bytes.Equal(run.Frags[0][96:], []byte{0xee, 0xee, 0xee, 0xee}) || !bytes.Equal(run.Frags[1][:12], bytes.Repeat([]byte{0xee}, 12)) {
		t.Errorf("store across: %x / %x", run.Frags[0][96:], run.Frags[1][:12])
	}
	if r := e.mustCall(linux.FnXdpLoadBytes, cp, 210, bp, 16); r != eINVAL {
		t.Errorf("load past the end: %d, want -EINVAL", r)
	}
	// Grow the last fragment to its page's end, and no further.
	if r := e.mustCall(linux.FnXdpAdjustTail, cp, 4096-50); r != 0 || len(run.Frags[1]) != 4096 {
		t.Errorf("grow to the page's end: %d, %d bytes", r, len(run.Frags[1]))
	}
	if r := e.mustCall(linux.FnXdpAdjustTail, cp, 1); r != eINVAL {
		t.Errorf("grow past the page: %d, want -EINVAL", r)
	}
	// Shrink through both fragments and 20 bytes into the linear part.
	end := x.DataEnd
	if r := e.mustCall(linux.FnXdpAdjustTail, cp, neg(4096+100+20)); r != 0 || len(run.Frags) != 0 || x.DataEnd != end-20 {
		t.Errorf("shrink into the linear part: %d, %d fragments, data_end moved %d", r, len(run.Frags), int64(x.DataEnd)-int64(end))
	}
	// Without fragments, the linear rules again: at least ETH_HLEN.
	if r := e.mustCall(linux.FnXdpAdjustTail, cp, neg(44-ethHLen+1)); r != eINVAL {
		t.Errorf("shrink below ETH_HLEN: %d, want -EINVAL", r)
	}
	// A shrink must leave ETH_HLEN bytes of the whole packet.
	e2, _, _, cp2 := xdpFragsEnv(t, 10)
	if r := e2.mustCall(linux.FnXdpAdjustTail, cp2, neg(74-ethHLen+1)); r != eINVAL {
		t.Errorf("shrink of a packet with fragments below ETH_HLEN: %d, want -EINVAL", r)
	}
}

// neg is -n as a helper argument.
func neg(n int64) uint64 { return uint64(-n) }
