package helpers

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// Packet layout rules of XDP, as Linux has them.
const (
	// xdpFrameSize is sizeof(struct xdp_frame): Linux keeps it at the
	// start of the headroom, so bpf_xdp_adjust_head and _meta cannot grow
	// the packet into those bytes.
	xdpFrameSize = 40
	// ethHLen is ETH_HLEN, the smallest packet the adjust helpers leave.
	ethHLen = 14
	// xdpMaxMeta is the most metadata bytes bpf_xdp_adjust_meta allows.
	xdpMaxMeta = 32
)

// XDP actions and tc verdicts the redirect helpers return.
const (
	xdpAborted    = 0 // XDP_ABORTED
	xdpRedirect   = 4 // XDP_REDIRECT
	tcActShot     = 2 // TC_ACT_SHOT
	tcActRedirect = 7 // TC_ACT_REDIRECT
)

// Redirect flags.
const (
	flagIngress        = 1 << 0 // BPF_F_INGRESS
	flagBroadcast      = 1 << 3 // BPF_F_BROADCAST
	flagExcludeIngress = 1 << 4 // BPF_F_EXCLUDE_INGRESS
	xdpActionMask      = 3      // XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX
)

func init() {
	register(linux.FnXdpAdjustHead, xdpAdjustHead)
	register(linux.FnXdpAdjustTail, xdpAdjustTail)
	register(linux.FnXdpAdjustMeta, xdpAdjustMeta)
	register(linux.FnXdpGetBuffLen, xdpGetBuffLen)
	register(linux.FnXdpLoadBytes, func(*impl) vm.Helper { return xdpBytes("bpf_xdp_load_bytes", false) })
	register(linux.FnXdpStoreBytes, func(*impl) vm.Helper { return xdpBytes("bpf_xdp_store_bytes", true) })
	register(linux.FnRedirect, redirect)
	register(linux.FnRedirectMap, redirectMap)
}

// xdpBuf is an XDP context with its pointers as offsets into Run.Packet.
type xdpBuf struct {
	x                   *linux.XDPContext
	pkt                 []byte
	base                uint64 // address of pkt[0], data_hard_start
	meta, data, dataEnd int64
	run                 *Run // its Frags are the packet's fragments
}

// fragsLen is the number of bytes in the fragments.
func (b *xdpBuf) fragsLen() int64 {
	n := 0
	for _, f := range b.run.Frags {
		n += len(f)
	}
	return int64(n)
}

// buffLen is the packet's length: the linear part and the fragments.
func (b *xdpBuf) buffLen() int64 { return b.dataEnd - b.data + b.fragsLen() }

// copyBytes copies between buf and the packet's bytes from offset on,
// through the linear part and then the fragments; the caller has checked
// that they are all there.
func (b *xdpBuf) copyBytes(offset int64, buf []byte, store bool) {
	for i := -1; i < len(b.run.Frags) && len(buf) > 0; i++ {
		p := b.pkt[b.data:b.dataEnd] // i == -1: the linear part
		if i >= 0 {
			p = b.run.Frags[i]
		}
		if offset >= int64(len(p)) {
			offset -= int64(len(p))
			continue
		}
		var n int
		if store {
			n = copy(p[offset:], buf)
		} else {
			n = copy(buf, p[offset:])
		}
		buf, offset = buf[n:], 0
	}
}

// adjustFragsTail is bpf_xdp_adjust_tail of a packet with fragments: it
// grows the last fragment into the rest of its page (zeroed) or shrinks
// the packet from its end, dropping the fragments it empties and then
// the linear part's end, keeping an Ethernet header's worth of packet.
func (b *xdpBuf) adjustFragsTail(delta int64) int64 {
	frags := b.run.Frags
	if delta >= 0 {
		last := frags[len(frags)-1]
		if delta > int64(cap(last)-len(last)) {
			return eINVAL
		}
		grown := last[:len(last)+int(delta)]
		clear(grown[len(last):])
		frags[len(frags)-1] = grown
		return 0
	}
	shrink := -delta
	if shrink > b.buffLen()-ethHLen {
		return eINVAL
	}
	for len(frags) > 0 && shrink > 0 {
		last := frags[len(frags)-1]
		cut := min(shrink, int64(len(last)))
		shrink -= cut
		if cut == int64(len(last)) {
			frags = frags[:len(frags)-1]
		} else {
			frags[len(frags)-1] = last[:int64(len(last))-cut]
		}
	}
	b.run.Frags = frags
	if len(frags) == 0 {
		// Linux then takes the rest from the linear part without checking
		// it again (the first check kept ETH_HLEN bytes overall).
		b.dataEnd -= shrink
		b.store()
	}
	return 0
}

// xdpOf checks the context argument of an XDP helper: it must be the run's
// XDPContext, with its pointers inside Run.Packet.
func xdpOf(rc *vm.RunContext, ctx uint64, name string) (xdpBuf, error) {
	run, err := runOf(rc, name)
	if err != nil {
		return xdpBuf{}, err
	}
	if run.Program != linux.XDP || run.Ctx == nil || uint64(uintptr(run.Ctx)) != ctx || len(run.Packet) == 0 {
		return xdpBuf{}, fmt.Errorf("%s: %w: %#x is not the XDP context of the run", name, ErrContext, ctx)
	}
	x := (*linux.XDPContext)(run.Ctx)
	b := xdpBuf{x: x, pkt: run.Packet, base: uint64(uintptr(unsafe.Pointer(&run.Packet[0]))), run: run}
	size := int64(len(run.Packet))
	b.meta, b.data, b.dataEnd = int64(x.DataMeta-b.base), int64(x.Data-b.base), int64(x.DataEnd-b.base)
	// data_meta == data + 1 marks metadata as unsupported, as in Linux.
	if b.data < 0 || b.data > b.dataEnd || b.dataEnd > size || b.meta < 0 || b.meta > b.data+1 {
		return xdpBuf{}, fmt.Errorf("%s: %w: packet pointers outside the packet buffer", name, ErrContext)
	}
	return b, nil
}

// metaLen is the metadata size, 0 when unsupported.
func (b *xdpBuf) metaLen() int64 {
	if b.meta > b.data {
		return 0
	}
	return b.data - b.meta
}

func (b *xdpBuf) store() {
	b.x.DataMeta = b.base + uint64(b.meta)
	b.x.Data = b.base + uint64(b.data)
	b.x.DataEnd = b.base + uint64(b.dataEnd)
}

// xdpAdjustHead is bpf_xdp_adjust_head(ctx, delta): move data by delta,
// keeping the metadata in front of it, the xdp_frame room at the start of
// the buffer and at least ETH_HLEN bytes of packet. It does not grow the
// packet past platform.MaxPacketSize bytes, which the verifier assumes of
// the packet after the call (a page of Linux never holds more; a jumbo
// page of bpfhost's could).
func xdpAdjustHead(*impl) vm.Helper {
	return func(rc *vm.RunContext, ctx, delta, _, _, _ uint64) (uint64, error) {
		b, err := xdpOf(rc, ctx, "bpf_xdp_adjust_head")
		if err != nil {
			return 0, err
		}
		off := int64(int32(delta))
		metalen := b.metaLen()
		data := b.data + off
		if data < xdpFrameSize+metalen || data > b.dataEnd-ethHLen || b.dataEnd-data > platform.MaxPacketSize {
			return ret(eINVAL), nil
		}
		if metalen > 0 {
			copy(b.pkt[b.meta+off:], b.pkt[b.meta:b.data])
		}
		b.meta += off
		b.data = data
		b.store()
		return 0, nil
	}
}

// xdpAdjustTail is bpf_xdp_adjust_tail(ctx, delta): move data_end by
// delta, up to the end of Run.Packet and down to ETH_HLEN bytes of packet;
// grown bytes are zeroed. As bpf_xdp_adjust_head, it does not grow the
// packet past platform.MaxPacketSize bytes.
func xdpAdjustTail(*impl) vm.Helper {
	return func(rc *vm.RunContext, ctx, delta, _, _, _ uint64) (uint64, error) {
		b, err := xdpOf(rc, ctx, "bpf_xdp_adjust_tail")
		if err != nil {
			return 0, err
		}
		if len(b.run.Frags) > 0 {
			return ret(b.adjustFragsTail(int64(int32(delta)))), nil
		}
		end := b.dataEnd + int64(int32(delta))
		if end > int64(len(b.pkt)) || end < b.data+ethHLen || end-b.data > platform.MaxPacketSize {
			return ret(eINVAL), nil
		}
		if end > b.dataEnd {
			clear(b.pkt[b.dataEnd:end])
		}
		b.dataEnd = end
		b.store()
		return 0, nil
	}
}

// xdpAdjustMeta is bpf_xdp_adjust_meta(ctx, delta): move data_meta by
// delta; the metadata must stay between the xdp_frame room and data, a
// multiple of 4 bytes and at most 32.
func xdpAdjustMeta(*impl) vm.Helper {
	return func(rc *vm.RunContext, ctx, delta, _, _, _ uint64) (uint64, error) {
		b, err := xdpOf(rc, ctx, "bpf_xdp_adjust_meta")
		if err != nil {
			return 0, err
		}
		if b.meta > b.data {
			return ret(eNOTSUPP), nil
		}
		meta := b.meta + int64(int32(delta))
		if meta < xdpFrameSize || meta > b.data {
			return ret(eINVAL), nil
		}
		if n := b.data - meta; n%4 != 0 || n > xdpMaxMeta {
			return ret(eACCES), nil
		}
		b.meta = meta
		b.store()
		return 0, nil
	}
}

// xdpGetBuffLen is bpf_xdp_get_buff_len(ctx): the packet length, its
// fragments included.
func xdpGetBuffLen(*impl) vm.Helper {
	return func(rc *vm.RunContext, ctx, _, _, _, _ uint64) (uint64, error) {
		b, err := xdpOf(rc, ctx, "bpf_xdp_get_buff_len")
		if err != nil {
			return 0, err
		}
		return uint64(b.buffLen()), nil
	}
}

// xdpBytes is bpf_xdp_load_bytes and bpf_xdp_store_bytes(ctx, offset,
// buf, len): offset counts from data through the linear part and then the
// fragments.
func xdpBytes(name string, store bool) vm.Helper {
	return func(rc *vm.RunContext, ctx, offset, buf, n, _ uint64) (uint64, error) {
		b, err := xdpOf(rc, ctx, name)
		if err != nil {
			return 0, err
		}
		offset, n = uint64(uint32(offset)), uint64(uint32(n))
		if err := rc.CheckArg(buf, n, !store); err != nil {
			return 0, argErr(name, "buf", err)
		}
		fail := func(r int64) (uint64, error) {
			if !store {
				// The verifier marks the buffer written whatever the
				// result: a failed load leaves it zeroed.
				clear(vm.Bytes(buf, int(n)))
			}
			return ret(r), nil
		}
		if offset > 0xffff || n > 0xffff {
			return fail(eFAULT)
		}
		if int64(offset+n) > b.buffLen() {
			return fail(eINVAL)
		}
		b.copyBytes(int64(offset), vm.Bytes(buf, int(n)), store)
		return 0, nil
	}
}

// redirect is bpf_redirect(ifindex, flags): for XDP programs it records the
// target and returns XDP_REDIRECT (XDP_ABORTED for any flag); for tc and
// other __sk_buff programs TC_ACT_REDIRECT (TC_ACT_SHOT for flags other
// than BPF_F_INGRESS).
func redirect(*impl) vm.Helper {
	return func(rc *vm.RunContext, ifindex, flags, _, _, _ uint64) (uint64, error) {
		run, err := runOf(rc, "bpf_redirect")
		if err != nil {
			return 0, err
		}
		if run.Program == linux.XDP {
			if flags != 0 {
				return xdpAborted, nil
			}
			run.Redirect = Redirect{Set: true, Ifindex: uint32(ifindex)}
			return xdpRedirect, nil
		}
		if flags&^flagIngress != 0 {
			return tcActShot, nil
		}
		run.Redirect = Redirect{Set: true, Ifindex: uint32(ifindex), Flags: flags}
		return tcActRedirect, nil
	}
}

// redirectMap is bpf_redirect_map(map, key, flags) of XDP programs: if key
// has an entry (or BPF_F_BROADCAST is set) it records the map and key and
// returns XDP_REDIRECT; otherwise it returns the action in the low bits of
// flags.
func redirectMap(h *impl) vm.Helper {
	const name = "bpf_redirect_map"
	return func(rc *vm.RunContext, mp, key, flags, _, _ uint64) (uint64, error) {
		run, err := runOf(rc, name)
		if err != nil {
			return 0, err
		}
		m, err := h.mapOf(rc, mp, name)
		if m == nil {
			return xdpAborted, err
		}
		if flags&^(xdpActionMask|flagBroadcast|flagExcludeIngress) != 0 {
			return xdpAborted, nil
		}
		if !hasEntry(m, uint32(key), rc.Slot) && flags&flagBroadcast == 0 {
			run.Redirect = Redirect{}
			return flags & xdpActionMask, nil
		}
		r := Redirect{Set: true, Ifindex: uint32(key), Map: m}
		if flags&flagBroadcast != 0 {
			r.Flags = flags
		}
		run.Redirect = r
		return xdpRedirect, nil
	}
}

// hasEntry reports whether a redirect map has an entry at a u32 key.
func hasEntry(m maps.Map, key uint32, slot int) bool {
	var k [4]byte
	binary.NativeEndian.PutUint32(k[:], key)
	switch m := m.(type) {
	case maps.ElemMap:
		if m.Spec().KeySize == 4 {
			return m.LookupPtr(k[:], slot) != nil
		}
	case maps.HandleMap:
		return m.Handle(k[:]) != nil
	}
	return false
}
