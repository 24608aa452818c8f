package linux

import "github.com/bpfhost/bpfhost/platform"

// skbPolicy says how one program type may use struct __sk_buff: which
// fields it may not touch at all and which it may write. The shared rules
// (widths, pointer fields) come from bpf_skb_is_valid_access; the per-type
// rules from sk_filter_, cg_skb_, tc_cls_act_, lwt_, sk_skb_ and
// flow_dissector_is_valid_access in net/core/filter.c.
type skbPolicy struct {
	name      string
	deny      []string // fields the type cannot access
	write     []string // fields the type may store to
	only      []string // if set, the only accessible fields (flow dissector)
	tstampTyp bool     // tc may read the 1-byte tstamp_type
	flowKeys  bool     // flow dissector reads flow_keys
}

// sockIPFields are family..local_port, readable by cgroup_skb and sk_skb only.
var sockIPFields = []string{"family", "remote_ip4", "local_ip4", "remote_ip6", "local_ip6", "remote_port", "local_port"}

var (
	skbSocketFilter = skbPolicy{name: "socket_filter",
		deny:  append([]string{"tc_classid", "data", "data_meta", "data_end", "tstamp", "wire_len", "hwtstamp"}, sockIPFields...),
		write: []string{"cb"}}
	skbCGroup = skbPolicy{name: "cgroup_skb",
		deny:  []string{"tc_classid", "data_meta", "wire_len"},
		write: []string{"mark", "priority", "cb", "tstamp"}}
	skbTC = skbPolicy{name: "tc",
		deny:      sockIPFields,
		write:     []string{"mark", "tc_index", "priority", "tc_classid", "cb", "tstamp", "queue_mapping"},
		tstampTyp: true}
	skbLWT = skbPolicy{name: "lwt",
		deny:  append([]string{"tc_classid", "data_meta", "tstamp", "wire_len", "hwtstamp"}, sockIPFields...),
		write: []string{"mark", "priority", "cb"}}
	skbSkSKB = skbPolicy{name: "sk_skb",
		deny:  []string{"tc_classid", "data_meta", "tstamp", "wire_len", "hwtstamp", "mark"},
		write: []string{"tc_index", "priority"}}
	skbFlowDissector = skbPolicy{name: "flow_dissector",
		only: []string{"data", "data_end", "flow_keys"}, flowKeys: true}
)

// skbFields is struct __sk_buff with the widths bpf_skb_is_valid_access
// accepts for loads; stores are 4-byte (8 for tstamp, any width in cb).
func skbFields() []platform.ContextField {
	return []platform.ContextField{
		ro("len", 0, 4, n32),
		ro("pkt_type", 4, 4, n32),
		ro("mark", 8, 4, n32),
		ro("queue_mapping", 12, 4, n32),
		ro("protocol", 16, 4, n32),
		ro("vlan_present", 20, 4, n32),
		ro("vlan_tci", 24, 4, n32),
		ro("vlan_proto", 28, 4, n32),
		ro("priority", 32, 4, n32),
		ro("ingress_ifindex", 36, 4, n32),
		ro("ifindex", 40, 4, n32),
		ro("tc_index", 44, 4, n32),
		ro("cb", 48, 20, any8),
		ro("hash", 68, 4, n32),
		ro("tc_classid", 72, 4, n32),
		ptr("data", 76, 4, platform.FieldPacketData, nil),
		ptr("data_end", 80, 4, platform.FieldPacketEnd, nil),
		ro("napi_id", 84, 4, n32),
		ro("family", 88, 4, n32),
		ro("remote_ip4", 92, 4, s4),
		ro("local_ip4", 96, 4, s4),
		ro("remote_ip6", 100, 16, s4),
		ro("local_ip6", 116, 16, s4),
		ro("remote_port", 132, 4, n32),
		ro("local_port", 136, 4, n32),
		ptr("data_meta", 140, 4, platform.FieldPacketMeta, nil),
		ptr("flow_keys", 144, 8, platform.FieldFlowKeys, flowKeys),
		ro("tstamp", 152, 8, s8),
		ro("wire_len", 160, 4, n32),
		ro("gso_segs", 164, 4, n32),
		ptr("sk", 168, 8, platform.FieldSockCommonOrNull, sockCommon),
		ro("gso_size", 176, 4, n32),
		ro("tstamp_type", 180, 1, s1),
		ro("hwtstamp", 184, 8, s8),
	}
}

// skBuff builds the __sk_buff descriptor for one program type's policy.
func skBuff(p skbPolicy) *platform.ContextDescriptor {
	in := func(list []string, name string) bool {
		for _, n := range list {
			if n == name {
				return true
			}
		}
		return false
	}
	var fields []platform.ContextField
	for _, f := range skbFields() {
		switch {
		case p.only != nil && !in(p.only, f.Name):
			continue
		case p.only == nil && in(p.deny, f.Name):
			continue
		case f.Name == "flow_keys" && !p.flowKeys:
			continue
		case f.Name == "tstamp_type" && !p.tstampTyp:
			continue
		}
		if in(p.write, f.Name) {
			switch f.Name {
			case "cb":
				f.WriteSizes = any8
			case "tstamp":
				f.WriteSizes = s8
			default:
				f.WriteSizes = s4
			}
			f.Access |= platform.Write
		}
		fields = append(fields, f)
	}
	return &platform.ContextDescriptor{
		Name:   "__sk_buff",
		CType:  "struct __sk_buff",
		Size:   192,
		Fields: fields,
		Host:   skbHost,
		Doc:    "linux/bpf.h struct __sk_buff as seen by " + p.name + " programs (net/core/filter.c)",
	}
}

// skbHost is the host layout of SKBContext, shared by every __sk_buff
// variant (including the flow dissector's).
var skbHost = &platform.HostLayout{
	Name: "linux.SKBContext",
	Size: 208,
	Fields: []platform.HostField{
		hostField("len", 0, 4),
		hostField("pkt_type", 4, 4),
		hostField("mark", 8, 4),
		hostField("queue_mapping", 12, 4),
		hostField("protocol", 16, 4),
		hostField("vlan_present", 20, 4),
		hostField("vlan_tci", 24, 4),
		hostField("vlan_proto", 28, 4),
		hostField("priority", 32, 4),
		hostField("ingress_ifindex", 36, 4),
		hostField("ifindex", 40, 4),
		hostField("tc_index", 44, 4),
		hostField("cb", 48, 20),
		hostField("hash", 68, 4),
		hostField("tc_classid", 72, 4),
		hostField("napi_id", 76, 4),
		hostField("family", 80, 4),
		hostField("remote_ip4", 84, 4),
		hostField("local_ip4", 88, 4),
		hostField("remote_ip6", 92, 16),
		hostField("local_ip6", 108, 16),
		hostField("remote_port", 124, 4),
		hostField("local_port", 128, 4),
		hostField("wire_len", 132, 4),
		hostField("gso_segs", 136, 4),
		hostField("gso_size", 140, 4),
		hostField("tstamp_type", 144, 1),
		hostField("data", 152, 8),
		hostField("data_end", 160, 8),
		hostField("data_meta", 168, 8),
		hostField("flow_keys", 176, 8),
		hostField("tstamp", 184, 8),
		hostField("sk", 192, 8),
		hostField("hwtstamp", 200, 8),
	},
}

// SKBContext is the host form of struct __sk_buff, shared by socket
// filters, tc classifiers and actions, cgroup_skb and flow dissector
// programs. Scalar fields keep their Linux meaning and byte order (the ones
// Linux stores in network byte order are stored so here too); Data, DataEnd,
// DataMeta, FlowKeys and SK are host addresses.
type SKBContext struct {
	Len            uint32
	PktType        uint32
	Mark           uint32
	QueueMapping   uint32
	Protocol       uint32 // network byte order, as skb->protocol
	VlanPresent    uint32
	VlanTCI        uint32
	VlanProto      uint32 // network byte order
	Priority       uint32
	IngressIfindex uint32
	Ifindex        uint32
	TCIndex        uint32
	CB             [5]uint32
	Hash           uint32
	TCClassid      uint32
	NapiID         uint32
	Family         uint32
	RemoteIP4      uint32    // network byte order
	LocalIP4       uint32    // network byte order
	RemoteIP6      [4]uint32 // network byte order
	LocalIP6       [4]uint32 // network byte order
	RemotePort     uint32    // network byte order
	LocalPort      uint32    // host byte order
	WireLen        uint32
	GSOSegs        uint32
	GSOSize        uint32
	TstampType     uint8
	_              [7]uint8
	Data           uint64 // address of the first packet byte
	DataEnd        uint64 // address just past the linear packet data
	DataMeta       uint64 // address of the metadata area (== Data when empty)
	FlowKeys       uint64 // address of a struct bpf_flow_keys (flow dissector)
	Tstamp         uint64
	SK             uint64 // address of a SockContext, or 0
	Hwtstamp       uint64
}
