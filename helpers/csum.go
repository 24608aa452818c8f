package helpers

import (
	"encoding/binary"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// Internet checksum arithmetic (RFC 1071, RFC 1624) on the values as the
// program holds them: 16- and 32-bit words loaded from packets in host
// order. The ones' complement sum does not depend on byte order as long as
// all operands share one.

// csumAdd adds with end-around carry (csum_add).
func csumAdd(a, b uint32) uint32 {
	s := a + b
	if s < b {
		s++
	}
	return s
}

// csumSub subtracts in ones' complement (csum_sub).
func csumSub(a, b uint32) uint32 { return csumAdd(a, ^b) }

// from32to16 folds a 32-bit sum to 16 bits with end-around carry, without
// complementing (csum_from32to16).
func from32to16(s uint32) uint16 {
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return uint16(s)
}

// csumFold folds and complements a 32-bit sum (csum_fold).
func csumFold(s uint32) uint16 { return ^from32to16(s) }

// csumPartial sums b (a multiple of 4 bytes) as host-order 32-bit words
// into seed, as the kernel's csum_partial does on 64-bit hosts.
func csumPartial(b []byte, seed uint32) uint32 {
	sum := uint64(seed)
	for ; len(b) >= 4; b = b[4:] {
		sum += uint64(binary.NativeEndian.Uint32(b))
	}
	sum = sum&0xffffffff + sum>>32
	sum = sum&0xffffffff + sum>>32
	return uint32(sum)
}

// csumReplace2 updates checksum sum for a 16-bit field change (csum_replace2).
func csumReplace2(sum, old, new uint16) uint16 {
	add16 := func(a, b uint16) uint16 {
		r := a + b
		if r < b {
			r++
		}
		return r
	}
	return ^add16(add16(^sum, ^old), new)
}

// csumReplace4 updates checksum sum for a 32-bit field change (csum_replace4).
func csumReplace4(sum uint16, from, to uint32) uint16 {
	return csumFold(csumAdd(csumSub(^uint32(sum), from), to))
}

// csumReplaceByDiff applies a bpf_csum_diff result to checksum sum.
func csumReplaceByDiff(sum uint16, diff uint32) uint16 {
	return csumFold(csumAdd(diff, ^uint32(sum)))
}

// csumDiffMax is the most bytes bpf_csum_diff takes in all (Linux's
// scratch buffer, MAX_BPF_STACK, before 6.13).
const csumDiffMax = 512

func init() { register(linux.FnCsumDiff, csumDiff) }

// csumDiff is bpf_csum_diff(from, from_size, to, to_size, seed): the ones'
// complement sum of seed, the words of to and the complemented words of
// from, folded to 16 bits as Linux does since 6.13 so that the result is
// the same on every architecture. Sizes must be multiples of 4.
func csumDiff(*impl) vm.Helper {
	const name = "bpf_csum_diff"
	return func(rc *vm.RunContext, from, fromSize, to, toSize, seed uint64) (uint64, error) {
		fromSize, toSize = uint64(uint32(fromSize)), uint64(uint32(toSize))
		if (fromSize|toSize)&3 != 0 || fromSize+toSize > csumDiffMax {
			return ret(eINVAL), nil
		}
		if err := rc.CheckArg(from, fromSize, false); err != nil {
			return 0, argErr(name, "from", err)
		}
		if err := rc.CheckArg(to, toSize, false); err != nil {
			return 0, argErr(name, "to", err)
		}
		f, t, s := vm.Bytes(from, int(fromSize)), vm.Bytes(to, int(toSize)), uint32(seed)
		switch {
		case fromSize > 0 && toSize > 0:
			return uint64(from32to16(csumSub(csumPartial(t, s), csumPartial(f, 0)))), nil
		case toSize > 0:
			return uint64(from32to16(csumPartial(t, s))), nil
		case fromSize > 0:
			return uint64(from32to16(^csumPartial(f, ^s))), nil
		}
		return uint64(s), nil
	}
}
