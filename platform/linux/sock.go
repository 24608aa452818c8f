package linux

import "github.com/bpfhost/bpfhost/platform"

// bpfSockFields is struct bpf_sock with the widths bpf_sock_is_valid_access
// accepts: bound_dev_if, mark and priority are whole u32s; the other u32s
// allow narrow loads; dst_port is a __be16 that may also be read as a u32
// together with the padding after it.
func bpfSockFields() []platform.ContextField {
	return []platform.ContextField{
		ro("bound_dev_if", 0, 4, s4),
		ro("family", 4, 4, n32),
		ro("type", 8, 4, n32),
		ro("protocol", 12, 4, n32),
		ro("mark", 16, 4, s4),
		ro("priority", 20, 4, s4),
		ro("src_ip4", 24, 4, n32),
		ro("src_ip6", 28, 16, n32),
		ro("src_port", 44, 4, n32),
		slot("dst_port", 48, 2, 4, s1|s2|s4),
		ro("dst_ip4", 52, 4, n32),
		ro("dst_ip6", 56, 16, n32),
		ro("state", 72, 4, n32),
		ro("rx_queue_mapping", 76, 4, n32),
	}
}

// sockDescriptor builds a struct bpf_sock view keeping only the fields keep
// accepts.
func sockDescriptor(doc string, keep func(*platform.ContextField) bool) *platform.ContextDescriptor {
	d := &platform.ContextDescriptor{Name: "bpf_sock", CType: "struct bpf_sock", Size: 80, Doc: doc}
	for _, f := range bpfSockFields() {
		if keep(&f) {
			d.Fields = append(d.Fields, f)
		}
	}
	return d
}

var (
	// bpfSock is what a PTR_TO_SOCKET points to: struct bpf_sock, read-only.
	bpfSock = sockDescriptor("struct bpf_sock behind a socket pointer (bpf_sock_is_valid_access; read-only)",
		func(*platform.ContextField) bool { return true })
	// sockCommon is what a PTR_TO_SOCK_COMMON points to: struct bpf_sock
	// without type, protocol, mark and priority
	// (bpf_sock_common_is_valid_access).
	sockCommon = sockDescriptor("struct bpf_sock behind a sock_common pointer (bpf_sock_common_is_valid_access)",
		func(f *platform.ContextField) bool { return f.Offset < 8 || f.Offset >= 24 })
)

// xdpSock is struct bpf_xdp_sock, what a lookup in an xskmap returns
// (PTR_TO_XDP_SOCK): queue_id, read whole and only read
// (bpf_xdp_sock_is_valid_access).
var xdpSock = &platform.ContextDescriptor{
	Name: "bpf_xdp_sock", CType: "struct bpf_xdp_sock", Size: 4,
	Fields: []platform.ContextField{ro("queue_id", 0, 4, s4)},
	Doc:    "linux/bpf.h struct bpf_xdp_sock behind an xskmap lookup; read-only",
}

// cgroupSock builds the struct bpf_sock context of a cgroup_sock program
// for its attach type (__sock_filter_check_attach_type): sock_create and
// sock_release may read and write bound_dev_if, mark and priority;
// post_bind4 and post_bind6 may read the source address and port.
func cgroupSock(attach AttachType) *platform.ContextDescriptor {
	create := attach == AttachCGroupInetSockCreate || attach == AttachCGroupInetSockRelease
	d := sockDescriptor("struct bpf_sock as the context of cgroup_sock/"+AttachTypeName(attach)+" programs",
		func(f *platform.ContextField) bool {
			switch f.Name {
			case "bound_dev_if", "mark", "priority":
				return create
			case "src_ip4":
				return attach == AttachCGroupInet4PostBind
			case "src_ip6":
				return attach == AttachCGroupInet6PostBind
			case "src_port":
				return attach == AttachCGroupInet4PostBind || attach == AttachCGroupInet6PostBind
			}
			return true
		})
	for i := range d.Fields {
		switch d.Fields[i].Name {
		case "bound_dev_if", "mark", "priority":
			d.Fields[i].Access |= platform.Write
			d.Fields[i].WriteSizes = s4
		}
	}
	d.Host = sockHost
	return d
}

// sockHost is the host layout of SockContext: identical to struct bpf_sock.
var sockHost = identityHost("linux.SockContext", 80, bpfSockFields())

// SockContext is the host form of struct bpf_sock: the context of
// cgroup_sock programs and what socket pointers point to. The layout is
// Linux's; addresses and dst_port are in network byte order, src_port in
// host byte order, as in Linux.
type SockContext struct {
	BoundDevIf     uint32
	Family         uint32
	Type           uint32
	Protocol       uint32
	Mark           uint32
	Priority       uint32
	SrcIP4         uint32
	SrcIP6         [4]uint32
	SrcPort        uint32
	DstPort        uint16
	_              uint16
	DstIP4         uint32
	DstIP6         [4]uint32
	State          uint32
	RxQueueMapping int32
}

// tcpSock is struct bpf_tcp_sock, returned by bpf_tcp_sock: read-only u32
// fields plus two u64 byte counters (bpf_tcp_sock_is_valid_access).
var tcpSock = func() *platform.ContextDescriptor {
	d := &platform.ContextDescriptor{Name: "bpf_tcp_sock", CType: "struct bpf_tcp_sock", Size: 112,
		Doc: "linux/bpf.h struct bpf_tcp_sock; read-only"}
	for i, n := range []string{"snd_cwnd", "srtt_us", "rtt_min", "snd_ssthresh", "rcv_nxt", "snd_nxt",
		"snd_una", "mss_cache", "ecn_flags", "rate_delivered", "rate_interval_us", "packets_out",
		"retrans_out", "total_retrans", "segs_in", "data_segs_in", "segs_out", "data_segs_out",
		"lost_out", "sacked_out"} {
		d.Fields = append(d.Fields, ro(n, 4*i, 4, s4))
	}
	d.Fields = append(d.Fields, ro("bytes_received", 80, 8, s8), ro("bytes_acked", 88, 8, s8))
	for i, n := range []string{"dsack_dups", "delivered", "delivered_ce", "icsk_retransmits"} {
		d.Fields = append(d.Fields, ro(n, 96+4*i, 4, s4))
	}
	return d
}()

// flowKeys is struct bpf_flow_keys behind __sk_buff.flow_keys: the flow
// dissector reads and writes it freely (check_flow_keys_access checks only
// bounds). It is one 56-byte field here; bpfhost also requires aligned
// accesses, which compiled member accesses always are.
var flowKeys = &platform.ContextDescriptor{
	Name:   "bpf_flow_keys",
	CType:  "struct bpf_flow_keys",
	Size:   56,
	Fields: []platform.ContextField{field("keys", 0, 56, any8, any8)},
	Doc:    "linux/bpf.h struct bpf_flow_keys; one read-write blob",
}

// sockAddrV4 and sockAddrV6 list the attach types whose struct
// bpf_sock_addr has an IPv4 or IPv6 user address (sock_addr_is_valid_access).
var (
	sockAddrV4 = []AttachType{AttachCGroupInet4Bind, AttachCGroupInet4Connect, AttachCGroupInet4Getpeername,
		AttachCGroupInet4Getsockname, AttachCGroupUDP4Sendmsg, AttachCGroupUDP4Recvmsg}
	sockAddrV6 = []AttachType{AttachCGroupInet6Bind, AttachCGroupInet6Connect, AttachCGroupInet6Getpeername,
		AttachCGroupInet6Getsockname, AttachCGroupUDP6Sendmsg, AttachCGroupUDP6Recvmsg}
)

func hasAttach(list []AttachType, a AttachType) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// sockAddrFields is struct bpf_sock_addr with every field present.
func sockAddrFields() []platform.ContextField {
	return []platform.ContextField{
		ro("user_family", 0, 4, s4),
		field("user_ip4", 4, 4, n32, s4),
		field("user_ip6", 8, 16, any8, s4|s8),
		field("user_port", 24, 4, n32, s4),
		ro("family", 28, 4, s4),
		ro("type", 32, 4, s4),
		ro("protocol", 36, 4, s4),
		field("msg_src_ip4", 40, 4, n32, s4),
		field("msg_src_ip6", 44, 16, any8, s4|s8),
		ptr("sk", 64, 8, platform.FieldSocket, bpfSock),
	}
}

// sockAddr builds the struct bpf_sock_addr context of a cgroup_sock_addr
// program for its attach type: the user address fields exist for the
// matching family, the message source fields for sendmsg only.
func sockAddr(attach AttachType) *platform.ContextDescriptor {
	d := &platform.ContextDescriptor{Name: "bpf_sock_addr", CType: "struct bpf_sock_addr", Size: 72,
		Host: sockAddrHost,
		Doc:  "linux/bpf.h struct bpf_sock_addr as seen by cgroup_sock_addr/" + AttachTypeName(attach) + " programs"}
	for _, f := range sockAddrFields() {
		switch f.Name {
		case "user_ip4":
			if !hasAttach(sockAddrV4, attach) {
				continue
			}
		case "user_ip6":
			if !hasAttach(sockAddrV6, attach) {
				continue
			}
		case "msg_src_ip4":
			if attach != AttachCGroupUDP4Sendmsg {
				continue
			}
		case "msg_src_ip6":
			if attach != AttachCGroupUDP6Sendmsg {
				continue
			}
		}
		d.Fields = append(d.Fields, f)
	}
	return d
}

// sockAddrHost is the host layout of SockAddrContext: identical to Linux's.
var sockAddrHost = identityHost("linux.SockAddrContext", 72, sockAddrFields())

// SockAddrContext is the host form of struct bpf_sock_addr, the context of
// cgroup_sock_addr programs (bind, connect, sendmsg, ...). Addresses and
// ports are in network byte order, as in Linux; SK is the address of a
// SockContext describing the socket.
type SockAddrContext struct {
	UserFamily uint32
	UserIP4    uint32
	UserIP6    [4]uint32
	UserPort   uint32
	Family     uint32
	Type       uint32
	Protocol   uint32
	MsgSrcIP4  uint32
	MsgSrcIP6  [4]uint32
	SK         uint64
}

// sockOps is struct bpf_sock_ops (sock_ops_is_valid_access): u32 fields are
// read whole except skb_tcp_flags; reply and sk_txhash are writable; the
// rest of the args/replylong union is read-only.
var sockOps = func() *platform.ContextDescriptor {
	d := &platform.ContextDescriptor{Name: "bpf_sock_ops", CType: "struct bpf_sock_ops", Size: 216,
		Doc: "linux/bpf.h struct bpf_sock_ops (net/core/filter.c sock_ops_is_valid_access)"}
	d.Fields = append(d.Fields,
		ro("op", 0, 4, s4),
		field("reply", 4, 4, s4, s4), // also args[0] and replylong[0]
		ro("args[1]", 8, 12, s4),     // args[1..3], replylong[1..3]
		ro("family", 20, 4, s4),
		ro("remote_ip4", 24, 4, s4),
		ro("local_ip4", 28, 4, s4),
		ro("remote_ip6", 32, 16, s4),
		ro("local_ip6", 48, 16, s4),
	)
	for i, n := range []string{"remote_port", "local_port", "is_fullsock", "snd_cwnd", "srtt_us",
		"bpf_sock_ops_cb_flags", "state", "rtt_min", "snd_ssthresh", "rcv_nxt", "snd_nxt", "snd_una",
		"mss_cache", "ecn_flags", "rate_delivered", "rate_interval_us", "packets_out", "retrans_out",
		"total_retrans", "segs_in", "data_segs_in", "segs_out", "data_segs_out", "lost_out", "sacked_out"} {
		d.Fields = append(d.Fields, ro(n, 64+4*i, 4, s4))
	}
	d.Fields = append(d.Fields,
		field("sk_txhash", 164, 4, s4, s4),
		ro("bytes_received", 168, 8, s8),
		ro("bytes_acked", 176, 8, s8),
		ptr("sk", 184, 8, platform.FieldSocketOrNull, bpfSock),
		ptr("skb_data", 192, 8, platform.FieldPacketData, nil),
		ptr("skb_data_end", 200, 8, platform.FieldPacketEnd, nil),
		ro("skb_len", 208, 4, s4),
		ro("skb_tcp_flags", 212, 4, n32),
	)
	return d
}()

// skMsg is struct sk_msg_md (sk_msg_is_valid_access): read-only; u32
// fields are read whole.
var skMsg = &platform.ContextDescriptor{
	Name: "sk_msg_md", CType: "struct sk_msg_md", Size: 80,
	Fields: []platform.ContextField{
		ptr("data", 0, 8, platform.FieldPacketData, nil),
		ptr("data_end", 8, 8, platform.FieldPacketEnd, nil),
		ro("family", 16, 4, s4),
		ro("remote_ip4", 20, 4, s4),
		ro("local_ip4", 24, 4, s4),
		ro("remote_ip6", 28, 16, s4),
		ro("local_ip6", 44, 16, s4),
		ro("remote_port", 60, 4, s4),
		ro("local_port", 64, 4, s4),
		ro("size", 68, 4, s4),
		ptr("sk", 72, 8, platform.FieldSocket, bpfSock),
	},
	Doc: "linux/bpf.h struct sk_msg_md",
}

// skReuseport is struct sk_reuseport_md (sk_reuseport_is_valid_access).
var skReuseport = &platform.ContextDescriptor{
	Name: "sk_reuseport_md", CType: "struct sk_reuseport_md", Size: 56,
	Fields: []platform.ContextField{
		ptr("data", 0, 8, platform.FieldPacketData, nil),
		ptr("data_end", 8, 8, platform.FieldPacketEnd, nil),
		ro("len", 16, 4, n32),
		ro("eth_protocol", 20, 4, s2|s4),
		ro("ip_protocol", 24, 4, n32),
		ro("bind_inany", 28, 4, n32),
		ro("hash", 32, 4, s4),
		ptr("sk", 40, 8, platform.FieldSocket, bpfSock),
		ptr("migrating_sk", 48, 8, platform.FieldSockCommonOrNull, sockCommon),
	},
	Doc: "linux/bpf.h struct sk_reuseport_md; read-only",
}

// skLookup is struct bpf_sk_lookup (sk_lookup_is_valid_access): read-only;
// remote_port is a __be16 that may be read as a u32, and the padding after
// it reads as zero.
var skLookup = &platform.ContextDescriptor{
	Name: "bpf_sk_lookup", CType: "struct bpf_sk_lookup", Size: 72,
	Fields: []platform.ContextField{
		ptr("sk", 0, 8, platform.FieldSocketOrNull, bpfSock),
		ro("family", 8, 4, n32),
		ro("protocol", 12, 4, n32),
		ro("remote_ip4", 16, 4, n32),
		ro("remote_ip6", 20, 16, n32),
		slot("remote_port", 36, 2, 4, s1|s2|s4),
		func() platform.ContextField {
			f := ro("remote_port_pad", 38, 2, s1|s2)
			f.Kind = platform.FieldPadding
			return f
		}(),
		ro("local_ip4", 40, 4, n32),
		ro("local_ip6", 44, 16, n32),
		ro("local_port", 60, 4, n32),
		ro("ingress_ifindex", 64, 4, n32),
	},
	Doc: "linux/bpf.h struct bpf_sk_lookup; sk is read-only here (select sockets with bpf_sk_assign)",
}

// sockopt builds struct bpf_sockopt for getsockopt or setsockopt programs
// (cg_sockopt_is_valid_access): setsockopt may rewrite level and optname,
// getsockopt may read and write retval, both may write optlen.
func sockopt(attach AttachType) *platform.ContextDescriptor {
	set := attach == AttachCGroupSetsockopt
	d := &platform.ContextDescriptor{Name: "bpf_sockopt", CType: "struct bpf_sockopt", Size: 40,
		Doc: "linux/bpf.h struct bpf_sockopt as seen by cgroup/" + map[bool]string{true: "setsockopt", false: "getsockopt"}[set] + " programs"}
	d.Fields = []platform.ContextField{
		ptr("sk", 0, 8, platform.FieldSocket, bpfSock),
		ptr("optval", 8, 8, platform.FieldPacketData, nil),
		ptr("optval_end", 16, 8, platform.FieldPacketEnd, nil),
	}
	if set {
		d.Fields = append(d.Fields, field("level", 24, 4, s4, s4), field("optname", 28, 4, s4, s4))
	} else {
		d.Fields = append(d.Fields, ro("level", 24, 4, s4), ro("optname", 28, 4, s4))
	}
	d.Fields = append(d.Fields, field("optlen", 32, 4, s4, s4))
	if !set {
		d.Fields = append(d.Fields, field("retval", 36, 4, s4, s4))
	}
	return d
}
