package helpers

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// skbEnv makes a tc context over a 64-byte packet with 16 bytes of
// headroom.
func skbEnv(t *testing.T) (*env, *Run, *linux.SKBContext, uint64) {
	e := newEnv(t, vm.Checked)
	buf := make([]byte, 80)
	s := &linux.SKBContext{}
	s.Data, s.DataEnd = addr(buf)+16, addr(buf)+80
	s.Len = 64
	run := &Run{Program: linux.SchedCLS, Ctx: ptrOf(s), Packet: buf}
	e.rc.Value = run
	return e, run, s, uint64(uintptr(run.Ctx))
}

func TestSKBLoadStore(t *testing.T) {
	e, run, s, cp := skbEnv(t)
	for i := range run.Packet {
		run.Packet[i] = byte(i)
	}
	b, bp := e.mem("buf", 8, true)
	if r := e.mustCall(linux.FnSkbLoadBytes, cp, 60, bp, 4); r != 0 || b[0] != 76 || b[3] != 79 {
		t.Errorf("load_bytes = %d, %v", r, b[:4])
	}
	copy(b, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	if r := e.mustCall(linux.FnSkbLoadBytes, cp, 61, bp, 4); r != eFAULT || b[0] != 0 || b[3] != 0 || b[4] != 5 {
		t.Errorf("load past the end = %d, %v; want -EFAULT and the 4 bytes zeroed", r, b)
	}
	if r := e.mustCall(linux.FnSkbLoadBytes, cp, 1<<31, bp, 1); r != eFAULT {
		t.Errorf("load at 2^31 = %d", r)
	}
	copy(b, "wxyz")
	s.Hash = 99
	if r := e.mustCall(linux.FnSkbStoreBytes, cp, 0, bp, 4, flagRecomputeCsum); r != 0 || string(run.Packet[16:20]) != "wxyz" || s.Hash != 99 {
		t.Errorf("store_bytes = %d, %q, hash %d", r, run.Packet[16:20], s.Hash)
	}
	if r := e.mustCall(linux.FnSkbStoreBytes, cp, 4, bp, 4, flagInvalidHash); r != 0 || s.Hash != 0 {
		t.Errorf("store_bytes invalidating the hash = %d, hash %d", r, s.Hash)
	}
	if r := e.mustCall(linux.FnSkbStoreBytes, cp, 62, bp, 4, 0); r != eFAULT {
		t.Errorf("store past the end = %d, want -EFAULT", r)
	}
	if r := e.mustCall(linux.FnSkbStoreBytes, cp, 0, bp, 4, 4); r != eINVAL {
		t.Errorf("store with unknown flag = %d, want -EINVAL", r)
	}
	_, err := e.call(linux.FnSkbLoadBytes, cp, 0, 0x10, 4)
	wantAccessError(t, "load into a wild pointer", err)
	run.Program = linux.XDP
	if _, err := e.call(linux.FnSkbLoadBytes, cp, 0, bp, 4); !errors.Is(err, ErrContext) {
		t.Errorf("skb helper in an XDP run: %v", err)
	}
}

func TestGetHashRecalc(t *testing.T) {
	e, run, s, cp := skbEnv(t)
	frame := func(src, dst [4]byte, sport, dport uint16) {
		p := run.Packet[16:]
		clear(p)
		binary.BigEndian.PutUint16(p[12:], 0x0800)
		ip := p[14:]
		ip[0], ip[9] = 0x45, 6
		copy(ip[12:], src[:])
		copy(ip[16:], dst[:])
		binary.BigEndian.PutUint16(ip[20:], sport)
		binary.BigEndian.PutUint16(ip[22:], dport)
		s.Hash = 0
	}
	a, b := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	frame(a, b, 1000, 80)
	h1 := e.mustCall(linux.FnGetHashRecalc, cp)
	if h1 == 0 || uint32(h1) != s.Hash {
		t.Fatalf("hash %#x, skb->hash %#x", h1, s.Hash)
	}
	frame(b, a, 80, 1000)
	if h2 := e.mustCall(linux.FnGetHashRecalc, cp); h2 != h1 {
		t.Errorf("reverse direction hashes to %#x, want %#x", h2, h1)
	}
	frame(a, b, 1001, 80)
	if h3 := e.mustCall(linux.FnGetHashRecalc, cp); h3 == h1 {
		t.Errorf("another port hashes alike")
	}
	s.Hash = 1234
	if h := e.mustCall(linux.FnGetHashRecalc, cp); h != 1234 {
		t.Errorf("existing hash recomputed: %d", h)
	}
	e.mustCall(linux.FnSetHashInvalid, cp)
	if s.Hash != 0 {
		t.Error("set_hash_invalid left the hash")
	}
	e.mustCall(linux.FnSetHash, cp, 77)
	if s.Hash != 77 {
		t.Error("set_hash did not set it")
	}
}

// TestSKBPullData: a bpfhost sk_buff is linear, so bpf_skb_pull_data
// succeeds up to the packet's length (0 meaning the linear part) and is
// -ENOMEM past it, as pskb_may_pull makes it in Linux; the packet stays.
func TestSKBPullData(t *testing.T) {
	e, _, s, cp := skbEnv(t)
	data, end := s.Data, s.DataEnd
	for _, c := range []struct {
		n    uint64
		want int64
	}{{0, 0}, {14, 0}, {64, 0}, {65, eNOMEM}, {1 << 32, 0}, {1<<32 + 65, eNOMEM}} {
		if r := e.mustCall(linux.FnSkbPullData, cp, c.n); r != c.want {
			t.Errorf("pull_data(%d) = %d, want %d", c.n, r, c.want)
		}
	}
	if s.Data != data || s.DataEnd != end {
		t.Errorf("data pointers moved")
	}
}
