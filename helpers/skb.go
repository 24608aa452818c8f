package helpers

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"unsafe"

	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// bpfhost's sk_buffs are linear and carry no checksum state: they behave
// as Linux skbs with ip_summed == CHECKSUM_NONE. BPF_F_RECOMPUTE_CSUM has
// no skb->csum to update, and the csum_replace helpers always rewrite the
// checksum field.

// Flags of the skb helpers.
const (
	flagRecomputeCsum = 1 << 0    // BPF_F_RECOMPUTE_CSUM
	flagInvalidHash   = 1 << 1    // BPF_F_INVALIDATE_HASH
	flagHdrFieldMask  = 0xf       // BPF_F_HDR_FIELD_MASK
	flagPseudoHdr     = 1 << 4    // BPF_F_PSEUDO_HDR
	flagMarkMangled0  = 1 << 5    // BPF_F_MARK_MANGLED_0
	flagMarkEnforce   = 1 << 6    // BPF_F_MARK_ENFORCE
	flagIPv6          = 1 << 7    // BPF_F_IPV6
	csumMangled0      = 0xffff    // CSUM_MANGLED_0
	intMax            = 1<<31 - 1 // INT_MAX
)

func init() {
	register(linux.FnSkbLoadBytes, skbLoadBytes)
	register(linux.FnSkbStoreBytes, skbStoreBytes)
	register(linux.FnSkbPullData, skbPullData)
	register(linux.FnL3CsumReplace, func(*impl) vm.Helper { return csumReplace("bpf_l3_csum_replace", false) })
	register(linux.FnL4CsumReplace, func(*impl) vm.Helper { return csumReplace("bpf_l4_csum_replace", true) })
	register(linux.FnGetHashRecalc, getHashRecalc)
	register(linux.FnSetHashInvalid, setHashInvalid)
	register(linux.FnSetHash, setHash)
}

// skbOf checks the context argument of an __sk_buff helper and returns the
// context and its linear packet data.
func skbOf(rc *vm.RunContext, ctx uint64, name string) (*linux.SKBContext, []byte, error) {
	run, err := runOf(rc, name)
	if err != nil {
		return nil, nil, err
	}
	if !isSKB(run.Program) || run.Ctx == nil || uint64(uintptr(run.Ctx)) != ctx {
		return nil, nil, fmt.Errorf("%s: %w: %#x is not the __sk_buff context of the run", name, ErrContext, ctx)
	}
	s := (*linux.SKBContext)(run.Ctx)
	pkt, err := packetData(rc, run, ctx, name)
	return s, pkt, err
}

// packetData returns the packet between the context's data and data_end
// pointers, checked against Run.Packet.
func packetData(_ *vm.RunContext, run *Run, ctx uint64, name string) ([]byte, error) {
	if run.Ctx == nil || uint64(uintptr(run.Ctx)) != ctx {
		return nil, fmt.Errorf("%s: %w: %#x is not the context of the run", name, ErrContext, ctx)
	}
	var data, end uint64
	switch {
	case run.Program == linux.XDP:
		x := (*linux.XDPContext)(run.Ctx)
		data, end = x.Data, x.DataEnd
	case isSKB(run.Program):
		s := (*linux.SKBContext)(run.Ctx)
		data, end = s.Data, s.DataEnd
	default:
		return nil, fmt.Errorf("%s: %w: program type %d has no packet", name, ErrContext, run.Program)
	}
	if len(run.Packet) == 0 {
		if data == end {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w: no packet buffer", name, ErrContext)
	}
	base := uint64(uintptr(unsafe.Pointer(&run.Packet[0])))
	if data < base || end < data || end-base > uint64(len(run.Packet)) {
		return nil, fmt.Errorf("%s: %w: packet pointers outside the packet buffer", name, ErrContext)
	}
	return run.Packet[data-base : end-base], nil
}

// skbLoadBytes is bpf_skb_load_bytes(skb, offset, to, len): -EFAULT with
// to zeroed if the bytes are not all in the packet.
func skbLoadBytes(*impl) vm.Helper {
	const name = "bpf_skb_load_bytes"
	return func(rc *vm.RunContext, ctx, offset, to, n, _ uint64) (uint64, error) {
		offset, n = uint64(uint32(offset)), uint64(uint32(n))
		if err := rc.CheckArg(to, n, true); err != nil {
			return 0, argErr(name, "to", err)
		}
		dst := vm.Bytes(to, int(n))
		if run, err := runOf(rc, name); err == nil && run.Program == linux.FlowDissector {
			// bpf_flow_dissector_load_bytes reads the sk_buff, which a
			// flow dissector's test run (its only run in bpfhost) has not.
			clear(dst)
			return ret(eFAULT), nil
		}
		_, pkt, err := skbOf(rc, ctx, name)
		if err != nil {
			return 0, err
		}
		if offset > intMax || offset+n > uint64(len(pkt)) {
			clear(dst)
			return ret(eFAULT), nil
		}
		copy(dst, pkt[offset:offset+n])
		return 0, nil
	}
}

// skbPullData is bpf_skb_pull_data(skb, len): make the first len bytes (0:
// the linear part) linear and writable, as skb_ensure_writable does. A
// bpfhost sk_buff is all linear and writable, so it succeeds unless len is
// past the packet (-ENOMEM, pskb_may_pull); the data pointers stay. The
// verifier has already dropped the program's packet bounds (the helper
// changes the packet, as in Linux).
func skbPullData(*impl) vm.Helper {
	const name = "bpf_skb_pull_data"
	return func(rc *vm.RunContext, ctx, n, _, _, _ uint64) (uint64, error) {
		_, pkt, err := skbOf(rc, ctx, name)
		if err != nil {
			return 0, err
		}
		if uint64(uint32(n)) > uint64(len(pkt)) {
			return ret(eNOMEM), nil
		}
		return 0, nil
	}
}

// skbStoreBytes is bpf_skb_store_bytes(skb, offset, from, len, flags).
func skbStoreBytes(*impl) vm.Helper {
	const name = "bpf_skb_store_bytes"
	return func(rc *vm.RunContext, ctx, offset, from, n, flags uint64) (uint64, error) {
		offset, n = uint64(uint32(offset)), uint64(uint32(n))
		if err := rc.CheckArg(from, n, false); err != nil {
			return 0, argErr(name, "from", err)
		}
		s, pkt, err := skbOf(rc, ctx, name)
		if err != nil {
			return 0, err
		}
		if flags&^(flagRecomputeCsum|flagInvalidHash) != 0 {
			return ret(eINVAL), nil
		}
		if offset > intMax || offset+n > uint64(len(pkt)) {
			return ret(eFAULT), nil
		}
		copy(pkt[offset:offset+n], vm.Bytes(from, int(n)))
		if flags&flagInvalidHash != 0 {
			s.Hash = 0
		}
		return 0, nil
	}
}

// csumReplace is bpf_l3_csum_replace and bpf_l4_csum_replace(skb, offset,
// from, to, flags): incremental update (RFC 1624) of the 16-bit checksum
// at offset for a 2- or 4-byte field changing from from to to, or (size 0)
// by a bpf_csum_diff result in to.
func csumReplace(name string, l4 bool) vm.Helper {
	allowed := uint64(flagHdrFieldMask)
	if l4 {
		allowed |= flagMarkMangled0 | flagMarkEnforce | flagPseudoHdr | flagIPv6
	}
	return func(rc *vm.RunContext, ctx, offset, from, to, flags uint64) (uint64, error) {
		_, pkt, err := skbOf(rc, ctx, name)
		if err != nil {
			return 0, err
		}
		offset = uint64(uint32(offset))
		if flags&^allowed != 0 {
			return ret(eINVAL), nil
		}
		if offset > 0xffff || offset&1 != 0 || offset+2 > uint64(len(pkt)) {
			return ret(eFAULT), nil
		}
		field := pkt[offset : offset+2]
		sum := binary.NativeEndian.Uint16(field)
		mmzero := l4 && flags&flagMarkMangled0 != 0
		if mmzero && flags&flagMarkEnforce == 0 && sum == 0 {
			return 0, nil // a UDP checksum of 0 means "none"
		}
		switch flags & flagHdrFieldMask {
		case 0:
			if from != 0 {
				return ret(eINVAL), nil
			}
			sum = csumReplaceByDiff(sum, uint32(to))
		case 2:
			if l4 { // inet_proto_csum_replace2 widens to 32 bits
				sum = csumReplace4(sum, uint32(uint16(from)), uint32(uint16(to)))
			} else {
				sum = csumReplace2(sum, uint16(from), uint16(to))
			}
		case 4:
			sum = csumReplace4(sum, uint32(from), uint32(to))
		default:
			return ret(eINVAL), nil
		}
		if mmzero && sum == 0 {
			sum = csumMangled0
		}
		binary.NativeEndian.PutUint16(field, sum)
		return 0, nil
	}
}

// flowSeed keys the software flow hash, as Linux keys it with a random
// hashrnd per boot.
var flowSeed = maphash.MakeSeed()

// getHashRecalc is bpf_get_hash_recalc(skb): skb->hash, computed from the
// flow (addresses, protocol, ports, in an order that makes both directions
// hash alike) if it is 0.
func getHashRecalc(*impl) vm.Helper {
	return func(rc *vm.RunContext, ctx, _, _, _, _ uint64) (uint64, error) {
		s, pkt, err := skbOf(rc, ctx, "bpf_get_hash_recalc")
		if err != nil {
			return 0, err
		}
		if s.Hash == 0 {
			s.Hash = flowHash(pkt)
		}
		return uint64(s.Hash), nil
	}
}

// setHashInvalid is bpf_set_hash_invalid(skb).
func setHashInvalid(*impl) vm.Helper {
	return func(rc *vm.RunContext, ctx, _, _, _, _ uint64) (uint64, error) {
		s, _, err := skbOf(rc, ctx, "bpf_set_hash_invalid")
		if err != nil {
			return 0, err
		}
		s.Hash = 0
		return 0, nil
	}
}

// setHash is bpf_set_hash(skb, hash).
func setHash(*impl) vm.Helper {
	return func(rc *vm.RunContext, ctx, hash, _, _, _ uint64) (uint64, error) {
		s, _, err := skbOf(rc, ctx, "bpf_set_hash")
		if err != nil {
			return 0, err
		}
		s.Hash = uint32(hash)
		return 0, nil
	}
}

// flowHash hashes an Ethernet frame's flow keys; never 0.
func flowHash(pkt []byte) uint32 {
	var keys [40]byte // proto, ports, two addresses of up to 16 bytes
	n := flowKeys(pkt, keys[:])
	h := uint32(maphash.Bytes(flowSeed, keys[:n]))
	if h == 0 {
		h = 1
	}
	return h
}

// flowKeys writes the flow keys of an Ethernet frame into k and returns
// their length: ethertype, then for IPv4/IPv6 the protocol, the addresses
// and (unfragmented TCP, UDP, UDP-Lite, SCTP) the ports, lower endpoint
// first.
func flowKeys(pkt, k []byte) int {
	if len(pkt) < ethHLen {
		return 0
	}
	off := 12
	proto := binary.BigEndian.Uint16(pkt[off:])
	for (proto == 0x8100 || proto == 0x88a8) && len(pkt) >= off+6 {
		off += 4
		proto = binary.BigEndian.Uint16(pkt[off:])
	}
	off += 2
	binary.BigEndian.PutUint16(k, proto)
	n := 2
	var l4 byte
	var src, dst []byte
	ports := false
	switch proto {
	case 0x0800:
		ip := pkt[off:]
		if len(ip) < 20 {
			return n
		}
		ihl := int(ip[0]&0xf) * 4
		l4, src, dst = ip[9], ip[12:16], ip[16:20]
		frag := binary.BigEndian.Uint16(ip[6:]) & 0x3fff
		ports = frag == 0 && ihl >= 20 && len(ip) >= ihl+4
		off += ihl
	case 0x86dd:
		ip := pkt[off:]
		if len(ip) < 40 {
			return n
		}
		l4, src, dst = ip[6], ip[8:24], ip[24:40]
		ports = len(ip) >= 44
		off += 40
	default:
		return n
	}
	var sp, dp []byte
	if ports && (l4 == 6 || l4 == 17 || l4 == 132 || l4 == 136) {
		sp, dp = pkt[off:off+2], pkt[off+2:off+4]
	}
	if c := compareBytes(src, dst); c > 0 || (c == 0 && compareBytes(sp, dp) > 0) {
		src, dst, sp, dp = dst, src, dp, sp
	}
	k[n] = l4
	n++
	for _, b := range [][]byte{src, dst, sp, dp} {
		n += copy(k[n:], b)
	}
	return n
}

func compareBytes(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return len(a) - len(b)
}
