package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/bpfhost/bpfhost/platform"
)

// Test-run context rules: what a caller of BPF_PROG_TEST_RUN may set in a
// program's context (ctx_in) and what comes back (ctx_out), for __sk_buff
// and xdp_md (net/bpf/test_run.c). Fields are named as in the context
// tables above, and copied between the Linux layout and the host layout by
// those tables' offsets, so that the verifier, the context rewrite and the
// test run read one description of each structure.

// ErrTestRunContext is returned for a test-run context Linux refuses (the
// kernel's EINVAL).
var ErrTestRunContext = errors.New("test-run context refused")

// xdpMetaMax is the most metadata an XDP test run takes: the headroom
// (XDP_PACKET_HEADROOM, 256) less struct xdp_frame (40), which Linux keeps
// at its start.
const xdpMetaMax = 256 - 40

const ethHeaderLen = 14

// skbTestRunIn are the __sk_buff fields convert___skb_to_skb takes from a
// caller; every other byte must be zero. ifindex selects the device: 0 and
// 1 are loopback, the only one a user-space test run has.
var skbTestRunIn = []string{"mark", "priority", "ingress_ifindex", "ifindex", "cb", "tstamp", "wire_len", "gso_segs", "gso_size", "hwtstamp"}

// skbTestRunOut are the fields convert_skb_to___skb writes back; the other
// bytes of ctx_out are the caller's ctx_in.
var skbTestRunOut = []string{"mark", "priority", "ingress_ifindex", "ifindex", "cb", "tstamp", "wire_len", "gso_segs", "hwtstamp"}

// Kernel limits on what a caller may set (include/linux/netdevice.h).
const (
	gsoLegacyMaxSize = 65536
	gsoMaxSegs       = 65535
)

// SKBContextSize is sizeof(struct __sk_buff).
const SKBContextSize = 192

// XDPContextSize is sizeof(struct xdp_md).
const XDPContextSize = 24

// skbTestRunFields are the __sk_buff fields of every program type, the
// table the test-run rules read.
var skbTestRunFields = skBuff(skbPolicy{name: "test run"})

// xdpTestRunFields are the xdp_md fields, egress_ifindex included.
var xdpTestRunFields = xdpMD(true)

// ApplySKBTestRunContext applies a caller's __sk_buff (ctx_in, SKBContextSize
// bytes) to ctx as Linux's test run does, after ctx holds the packet's own
// fields; skbLen is skb->len (the data the program sees). A field Linux does
// not take from a caller must be zero, and the values it bounds must be in
// bounds.
func ApplySKBTestRunContext(ctx *SKBContext, in []byte, skbLen int) error {
	if len(in) != SKBContextSize {
		return fmt.Errorf("%w: __sk_buff of %d bytes, want %d", ErrTestRunContext, len(in), SKBContextSize)
	}
	if err := onlySettable(skbTestRunFields, in, skbTestRunIn, "__sk_buff"); err != nil {
		return err
	}
	u32 := func(name string) uint32 {
		f, _ := skbTestRunFields.FieldByName(name)
		return binary.NativeEndian.Uint32(in[f.Offset:])
	}
	if ifx := u32("ifindex"); ifx > 1 {
		return fmt.Errorf("%w: __sk_buff ifindex %d: only loopback (0 or 1) exists in a test run", ErrTestRunContext, ifx)
	}
	wire := u32("wire_len")
	if wire != 0 && (int64(wire) < int64(skbLen) || wire > gsoLegacyMaxSize) {
		return fmt.Errorf("%w: __sk_buff wire_len %d: want 0 or from the packet length %d to %d", ErrTestRunContext, wire, skbLen, gsoLegacyMaxSize)
	}
	if segs := u32("gso_segs"); segs > gsoMaxSegs {
		return fmt.Errorf("%w: __sk_buff gso_segs %d: at most %d", ErrTestRunContext, segs, gsoMaxSegs)
	}
	host := hostBytes(ctx)
	for _, name := range skbTestRunIn {
		if name == "ifindex" {
			continue // the device, which is loopback either way
		}
		copyField(host, skbHost, in, skbTestRunFields, name)
	}
	if wire == 0 {
		ctx.WireLen = uint32(skbLen)
	}
	return nil
}

// SKBTestRunContextOut returns the __sk_buff Linux's test run reports back
// (ctx_out): the caller's ctx_in (nil for none) with the fields the kernel
// writes back taken from ctx.
func SKBTestRunContextOut(ctx *SKBContext, in []byte) []byte {
	out := make([]byte, SKBContextSize)
	copy(out, in)
	host := hostBytes(ctx)
	for _, name := range skbTestRunOut {
		copyField(out, skbTestRunFields, host, skbHost, name)
	}
	return out
}

// XDPTestRun is what a caller's xdp_md asks of an XDP test run.
type XDPTestRun struct {
	// MetaLen is the number of metadata bytes at the start of data_in
	// (xdp_md.data).
	MetaLen int
	// LinearLen is the number of bytes of data_in, metadata included, that
	// the caller asks to have in the linear part of the buffer
	// (xdp_md.data_end); the rest goes into fragments (XDP multi-buffer).
	// The linear part also ends at the end of its page (XDPLinearMax).
	LinearLen int
	// IngressIfindex and RxQueueIndex are the receiving device (loopback,
	// 1, or none) and queue.
	IngressIfindex, RxQueueIndex uint32
}

// XDPTestRunContext checks a caller's xdp_md (ctx_in, XDPContextSize bytes)
// for data_in of size bytes as Linux does: data_meta 0, data the metadata
// length (a multiple of 4, at most 216: the headroom less struct
// xdp_frame), data_end at most the data length (the linear part: the bytes
// past it go into fragments), at least an Ethernet header of data after
// the metadata, and a receiving device only if it exists (loopback, queue
// 0). Without one the device is loopback.
func XDPTestRunContext(in []byte, size int) (XDPTestRun, error) {
	var r XDPTestRun
	if len(in) != XDPContextSize {
		return r, fmt.Errorf("%w: xdp_md of %d bytes, want %d", ErrTestRunContext, len(in), XDPContextSize)
	}
	desc := xdpTestRunFields
	u32 := func(name string) uint32 {
		f, _ := desc.FieldByName(name)
		return binary.NativeEndian.Uint32(in[f.Offset:])
	}
	meta, data, end := u32("data_meta"), u32("data"), u32("data_end")
	if meta != 0 || data > end || data > xdpMetaMax || data%4 != 0 || int64(end) > int64(size) {
		return r, fmt.Errorf("%w: xdp_md: data_meta must be 0, data a metadata length (a multiple of 4, at most %d) and data_end at most the data length %d; have %d, %d, %d",
			ErrTestRunContext, xdpMetaMax, size, meta, data, end)
	}
	if int64(size)-int64(data) < ethHeaderLen {
		return r, fmt.Errorf("%w: xdp_md: %d bytes of packet after %d of metadata; an Ethernet header needs %d", ErrTestRunContext, int64(size)-int64(data), data, ethHeaderLen)
	}
	if e := u32("egress_ifindex"); e != 0 {
		return r, fmt.Errorf("%w: xdp_md egress_ifindex %d: must be 0", ErrTestRunContext, e)
	}
	r.MetaLen, r.LinearLen = int(data), int(end)
	r.IngressIfindex, r.RxQueueIndex = u32("ingress_ifindex"), u32("rx_queue_index")
	switch {
	case r.IngressIfindex == 0 && r.RxQueueIndex != 0:
		return r, fmt.Errorf("%w: xdp_md rx_queue_index %d without ingress_ifindex", ErrTestRunContext, r.RxQueueIndex)
	case r.IngressIfindex > 1:
		return r, fmt.Errorf("%w: xdp_md ingress_ifindex %d: only loopback (1) exists in a test run", ErrTestRunContext, r.IngressIfindex)
	case r.RxQueueIndex != 0:
		return r, fmt.Errorf("%w: xdp_md rx_queue_index %d: loopback has one queue (0)", ErrTestRunContext, r.RxQueueIndex)
	}
	r.IngressIfindex = 1 // the test run's device is loopback either way
	return r, nil
}

// XDP test-run buffer geometry (net/bpf/test_run.c): one page holds the
// headroom (XDP_PACKET_HEADROOM, from which metadata is taken), the linear
// data and the shared info; each fragment is a page.
const (
	XDPHeadroom   = 256
	XDPSharedInfo = 320 // SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on 64-bit
	XDPPageSize   = 4096
	// XDPMaxFrags is MAX_SKB_FRAGS: a test run of more data is ENOMEM.
	XDPMaxFrags = 17
)

// XDPLinearMax returns how many bytes of data_in (metadata included) the
// linear part of an XDP test run's buffer takes at most with metaLen bytes
// of metadata: the page less the headroom left after the metadata and the
// shared info.
func XDPLinearMax(metaLen int) int { return XDPPageSize - (XDPHeadroom - metaLen) - XDPSharedInfo }

// XDPTestRunContextOut returns the xdp_md Linux's test run reports back:
// the caller's ctx_in (nil for none) with data and data_end as offsets from
// data_meta after the run.
func XDPTestRunContextOut(ctx *XDPContext, in []byte) []byte {
	out := make([]byte, XDPContextSize)
	copy(out, in)
	desc := xdpTestRunFields
	put := func(name string, v uint64) {
		f, _ := desc.FieldByName(name)
		binary.NativeEndian.PutUint32(out[f.Offset:], uint32(v))
	}
	put("data", ctx.Data-ctx.DataMeta)
	put("data_end", ctx.DataEnd-ctx.DataMeta)
	return out
}

// onlySettable fails if in has a non-zero byte outside the named fields.
func onlySettable(desc *platform.ContextDescriptor, in []byte, names []string, what string) error {
	settable := make([]bool, len(in))
	for _, name := range names {
		f, ok := desc.FieldByName(name)
		if !ok {
			panic("linux: test-run field " + name + " is not in " + desc.Name)
		}
		for i := f.Offset; i < f.End(); i++ {
			settable[i] = true
		}
	}
	for off, b := range in {
		if b != 0 && !settable[off] {
			name := fmt.Sprintf("offset %d", off)
			if f := fieldAt(desc, off); f != nil {
				name = fmt.Sprintf("%s (offset %d)", f.Name, f.Offset)
			}
			return fmt.Errorf("%w: %s field %s cannot be set for a test run", ErrTestRunContext, what, name)
		}
	}
	return nil
}

func fieldAt(desc *platform.ContextDescriptor, off int) *platform.ContextField {
	for i := range desc.Fields {
		if f := &desc.Fields[i]; off >= f.Offset && off < f.End() {
			return f
		}
	}
	return nil
}

// copyField copies the named field from src (laid out as srcLayout) to dst
// (laid out as dstLayout); each layout is a ContextDescriptor or a
// HostLayout.
func copyField(dst []byte, dstLayout any, src []byte, srcLayout any, name string) {
	do, dn := locate(dstLayout, name)
	so, sn := locate(srcLayout, name)
	if dn != sn {
		panic("linux: field " + name + " has different sizes in the two layouts")
	}
	copy(dst[do:do+dn], src[so:so+sn])
}

func locate(layout any, name string) (off, size int) {
	switch l := layout.(type) {
	case *platform.ContextDescriptor:
		if f, ok := l.FieldByName(name); ok {
			return f.Offset, f.End() - f.Offset
		}
	case *platform.HostLayout:
		for _, f := range l.Fields {
			if f.Name == name {
				return f.Offset, f.Size
			}
		}
	}
	panic("linux: no field " + name + " in a test-run layout")
}

// hostBytes views the host context as the bytes its host layout describes.
func hostBytes(ctx *SKBContext) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(ctx)), unsafe.Sizeof(*ctx))
}
