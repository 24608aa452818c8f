package helpers

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// refSum is the textbook ones' complement sum (RFC 1071) of 16-bit words
// in host order, with seed added as two words, folded to 16 bits.
func refSum(seed uint32, add, sub []byte) uint16 {
	s := uint64(seed&0xffff) + uint64(seed>>16)
	for i := 0; i+1 < len(add); i += 2 {
		s += uint64(binary.NativeEndian.Uint16(add[i:]))
	}
	for i := 0; i+1 < len(sub); i += 2 {
		s += uint64(^binary.NativeEndian.Uint16(sub[i:]))
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// sameSum compares ones' complement values, where 0 and 0xffff are both zero.
func sameSum(a, b uint16) bool {
	norm := func(x uint16) uint16 {
		if x == 0xffff {
			return 0
		}
		return x
	}
	return norm(a) == norm(b)
}

func TestCsumDiff(t *testing.T) {
	e := newEnv(t, vm.Checked)
	from, fp := e.mem("from", 256, false)
	to, tp := e.mem("to", 256, false)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		fs, ts := 4*rng.IntN(33), 4*rng.IntN(33)
		for k := range from {
			from[k], to[k] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		seed := rng.Uint32()
		if i%5 == 0 {
			seed = 0
		}
		r := e.mustCall(linux.FnCsumDiff, fp, uint64(fs), tp, uint64(ts), uint64(seed))
		if r < 0 || r > 0xffff && !(fs == 0 && ts == 0) {
			t.Fatalf("csum_diff(%d, %d) = %#x: not a folded sum", fs, ts, r)
		}
		if fs == 0 && ts == 0 {
			if r != int64(seed) {
				t.Errorf("csum_diff with no data = %#x, want the seed %#x", r, seed)
			}
			continue
		}
		if want := refSum(seed, to[:ts], from[:fs]); !sameSum(uint16(r), want) {
			t.Errorf("csum_diff(%d, %d, seed %#x) = %#x, want %#x", fs, ts, seed, r, want)
		}
	}
	// Sizes must be multiples of 4 and 512 bytes at most in all.
	for _, sz := range [][2]uint64{{1, 0}, {0, 2}, {3, 4}, {4, 6}, {256, 260}} {
		if r := e.mustCall(linux.FnCsumDiff, fp, sz[0], tp, sz[1], 0); r != eINVAL {
			t.Errorf("csum_diff sizes %v = %d, want -EINVAL", sz, r)
		}
	}
	// The documented use: fold the diff into an IPv4 header checksum.
	hdr := []byte{0x45, 0, 0, 0x54, 0x12, 0x34, 0x40, 0, 0x40, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	binary.BigEndian.PutUint16(hdr[10:], ipChecksum(hdr))
	copy(from, hdr[12:16])
	copy(to, []byte{192, 168, 1, 1})
	diff := e.mustCall(linux.FnCsumDiff, fp, 4, tp, 4, 0)
	sum := binary.NativeEndian.Uint16(hdr[10:])
	binary.NativeEndian.PutUint16(hdr[10:], csumReplaceByDiff(sum, uint32(diff)))
	copy(hdr[12:], to[:4])
	if ipChecksum(hdr) != 0 {
		t.Errorf("header with updated checksum does not verify: %x", hdr)
	}
}

// ipChecksum is the Internet checksum of b (0 for a correct header).
func ipChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func TestCsumReplace(t *testing.T) {
	e := newEnv(t, vm.Checked)
	pkt := make([]byte, 64)
	var ctx linux.SKBContext
	run := &Run{Program: linux.SchedCLS, Packet: pkt, Ctx: ptrOf(&ctx)}
	ctx.Data, ctx.DataEnd = addr(pkt)+14, addr(pkt)+14+20
	e.rc.Value = run
	ip := pkt[14:34]
	copy(ip, []byte{0x45, 0, 0, 0x54, 0x12, 0x34, 0x40, 0, 0x40, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	cp := uint64(uintptr(run.Ctx))

	// l3, 4 bytes: change the source address.
	old, new := binary.NativeEndian.Uint32(ip[12:]), binary.NativeEndian.Uint32([]byte{172, 16, 0, 9})
	if r := e.mustCall(linux.FnL3CsumReplace, cp, 10, uint64(old), uint64(new), 4); r != 0 {
		t.Fatalf("l3_csum_replace = %d", r)
	}
	binary.NativeEndian.PutUint32(ip[12:], new)
	if ipChecksum(ip) != 0 {
		t.Errorf("after l3 replace 4: checksum does not verify")
	}
	// l3, 2 bytes: change the TTL/protocol word.
	oldw := binary.NativeEndian.Uint16(ip[8:])
	ip2 := []byte{0x3f, 6}
	neww := binary.NativeEndian.Uint16(ip2)
	e.mustCall(linux.FnL3CsumReplace, cp, 10, uint64(oldw), uint64(neww), 2)
	copy(ip[8:], ip2)
	if ipChecksum(ip) != 0 {
		t.Errorf("after l3 replace 2: checksum does not verify")
	}
	// l4 with a diff (size 0) and with 2 bytes.
	_, fp := e.mem("from", 4, false)
	tb, tp := e.mem("to", 4, false)
	copy(vm.Bytes(fp, 4), ip[16:20])
	copy(tb, []byte{8, 8, 4, 4})
	diff := e.mustCall(linux.FnCsumDiff, fp, 4, tp, 4, 0)
	e.mustCall(linux.FnL4CsumReplace, cp, 10, 0, uint64(diff), 0)
	copy(ip[16:], tb)
	if ipChecksum(ip) != 0 {
		t.Errorf("after l4 replace by diff: checksum does not verify")
	}
	oldw = binary.NativeEndian.Uint16(ip[4:])
	e.mustCall(linux.FnL4CsumReplace, cp, 10, uint64(oldw), 0x9999, 2)
	binary.NativeEndian.PutUint16(ip[4:], 0x9999)
	if ipChecksum(ip) != 0 {
		t.Errorf("after l4 replace 2: checksum does not verify")
	}

	// A zero UDP checksum stays zero with BPF_F_MARK_MANGLED_0...
	binary.NativeEndian.PutUint16(ip[10:], 0)
	e.mustCall(linux.FnL4CsumReplace, cp, 10, 1, 2, flagMarkMangled0|2)
	if s := binary.NativeEndian.Uint16(ip[10:]); s != 0 {
		t.Errorf("mangled-0 checksum 0 changed to %#x", s)
	}
	// ...and a result of zero becomes CSUM_MANGLED_0.
	binary.NativeEndian.PutUint16(ip[10:], 0xfffe)
	e.mustCall(linux.FnL4CsumReplace, cp, 10, 0, 0xfffe, flagMarkMangled0|4)
	if s := binary.NativeEndian.Uint16(ip[10:]); s != 0xffff {
		t.Errorf("mangled-0 result %#x, want 0xffff", s)
	}

	for _, tt := range []struct {
		name           string
		id             uint64
		off, from, flg uint64
		want           int64
	}{
		{"l3 bad size", uint64(linux.FnL3CsumReplace), 10, 0, 3, eINVAL},
		{"l3 l4-only flag", uint64(linux.FnL3CsumReplace), 10, 0, flagPseudoHdr | 4, eINVAL},
		{"l3 diff with from", uint64(linux.FnL3CsumReplace), 10, 1, 0, eINVAL},
		{"l3 odd offset", uint64(linux.FnL3CsumReplace), 9, 0, 4, eFAULT},
		{"l3 past the end", uint64(linux.FnL3CsumReplace), 20, 0, 4, eFAULT},
		{"l4 unknown flag", uint64(linux.FnL4CsumReplace), 10, 0, 1 << 8, eINVAL},
		{"l4 pseudo ok", uint64(linux.FnL4CsumReplace), 10, 0, flagPseudoHdr | 4, 0},
	} {
		h := e.h[int32(tt.id)]
		r, err := h(e.rc, cp, tt.off, tt.from, 0, tt.flg)
		if err != nil || int64(r) != tt.want {
			t.Errorf("%s = %d, %v; want %d", tt.name, int64(r), err, tt.want)
		}
	}
}
