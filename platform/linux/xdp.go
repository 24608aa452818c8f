package linux

import "github.com/bpfhost/bpfhost/platform"

// xdpMD builds struct xdp_md as xdp_is_valid_access sees it: every field is
// read-only and loaded as a whole u32 (no narrow loads); egress_ifindex
// exists only for programs attached to a devmap. Writes to rx_queue_index
// are allowed only for device-offloaded programs, which bpfhost does not
// have.
func xdpMD(devmap bool) *platform.ContextDescriptor {
	fields := []platform.ContextField{
		ptr("data", 0, 4, platform.FieldPacketData, nil),
		ptr("data_end", 4, 4, platform.FieldPacketEnd, nil),
		ptr("data_meta", 8, 4, platform.FieldPacketMeta, nil),
		ro("ingress_ifindex", 12, 4, s4),
		ro("rx_queue_index", 16, 4, s4),
	}
	if devmap {
		fields = append(fields, ro("egress_ifindex", 20, 4, s4))
	}
	return &platform.ContextDescriptor{
		Name:   "xdp_md",
		CType:  "struct xdp_md",
		Size:   24,
		Fields: fields,
		Host:   xdpHost,
		Doc:    "linux/bpf.h struct xdp_md; access rules of net/core/filter.c xdp_is_valid_access",
	}
}

// xdpHost is the host layout of XDPContext.
var xdpHost = &platform.HostLayout{
	Name: "linux.XDPContext",
	Size: 40,
	Fields: []platform.HostField{
		hostField("data", 0, 8),
		hostField("data_end", 8, 8),
		hostField("data_meta", 16, 8),
		hostField("ingress_ifindex", 24, 4),
		hostField("rx_queue_index", 28, 4),
		hostField("egress_ifindex", 32, 4),
	},
}

// XDPContext is the host form of struct xdp_md that the runtime fills for
// an XDP program: the packet pointers are host addresses. The verified
// program's accesses are rewritten to this layout (platform.Rewrite).
type XDPContext struct {
	Data           uint64 // address of the first packet byte
	DataEnd        uint64 // address just past the last packet byte
	DataMeta       uint64 // address of the metadata area (== Data when empty)
	IngressIfindex uint32
	RxQueueIndex   uint32
	EgressIfindex  uint32 // devmap programs only
	_              uint32
}
