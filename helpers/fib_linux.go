package helpers

import (
	"encoding/binary"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Forwarding lookups on Linux ask the kernel over NETLINK_ROUTE, in the
// network namespace of the calling thread, as `ip route get`, `ip neigh
// get` and `ip link` do: the route to the destination (RTM_GETROUTE, an
// output route: through the interface for BPF_FIB_LOOKUP_OUTPUT, from
// table tbid for BPF_FIB_LOOKUP_TBID), the next hop's neighbour entry
// (RTM_GETNEIGH) and the interfaces' names, MTUs and addresses. Linux's
// helper looks the table up directly; asking for a route also applies the
// host's policy rules for the destination, and does not take the packet's
// source or ingress interface into account (docs/decisions/0029).

// fibScratch is the buffer of one request and its answer.
const fibScratch = 1024

// Netlink route layout (linux/rtnetlink.h, linux/neighbour.h).
const (
	rtmsgLen   = 12
	ndmsgLen   = 12
	rtaDst     = 1
	rtaOif     = 4
	rtaGateway = 5
	rtaPrio    = 6
	rtaPrefsrc = 7
	rtaMetrics = 8
	rtaTable   = 15
	rtaxLock   = 1
	rtaxMTU    = 2
	// rtmFFibMatch (RTM_F_FIB_MATCH) asks for the table entry that
	// matched instead of the resolved route.
	rtmFFibMatch = 0x2000
	ndaDst       = 1
	ndaLladdr    = 2
	nudValid     = 0x80 | 0x40 | 0x02 | 0x10 | 0x04 | 0x08 // PERMANENT NOARP REACHABLE PROBE STALE DELAY
)

// fibHeaderLen returns the link-layer header length of the interface
// ifindex (Linux's hard_header_len): 14 for Ethernet and loopback
// (ARPHRD_ETHER, ARPHRD_LOOPBACK), 0 for the rest (tunnels without a
// link layer), by its type in sysfs.
func fibHeaderLen(ifindex uint32) uint32 {
	ifc, err := net.InterfaceByIndex(int(ifindex))
	if err != nil {
		return 0
	}
	b, err := os.ReadFile("/sys/class/net/" + ifc.Name + "/type")
	if err != nil {
		return 0
	}
	switch strings.TrimSpace(string(b)) {
	case "1", "772": // ARPHRD_ETHER, ARPHRD_LOOPBACK
		return ethHeaderSize
	}
	return 0
}

// fibForwarding reports whether the interface forwards IPv4 (IPv6)
// packets (its conf/NAME/forwarding sysctl).
func fibForwarding(v6 bool, name string) bool {
	family := "ipv4"
	if v6 {
		family = "ipv6"
	}
	b, err := os.ReadFile("/proc/sys/net/" + family + "/conf/" + name + "/forwarding")
	return err == nil && strings.TrimSpace(string(b)) != "0"
}

// fibRouteTo asks for the route to dst: the route the kernel would use
// (its type, interface, gateway and preferred source) and then the entry
// of the table it comes from (RTM_F_FIB_MATCH: its priority and metrics).
func fibRouteTo(v6 bool, dst [16]byte, oif, table uint32) fibRoute {
	var r fibRoute
	msg, errno := fibGetRoute(v6, dst, oif, table, 0)
	if errno != 0 || len(msg) < rtmsgLen {
		return fibRoute{errno: errno}
	}
	r.typ = msg[7]
	alen := 4
	if v6 {
		alen = 16
	}
	ne := binary.NativeEndian
	eachAttr(msg[rtmsgLen:], func(typ uint16, v []byte) {
		switch {
		case typ == rtaOif && len(v) >= 4:
			r.oif = ne.Uint32(v)
		case typ == rtaGateway && len(v) == alen:
			copy(r.gw[:], v)
			r.hasGW = true
		case typ == rtaPrefsrc && len(v) == alen:
			copy(r.prefsrc[:], v)
			r.hasSrc = true
		}
	})
	if r.typ != rtnUnicast {
		return r
	}
	msg, errno = fibGetRoute(v6, dst, oif, table, rtmFFibMatch)
	if errno != 0 || len(msg) < rtmsgLen {
		return r
	}
	var mtu, locked uint32
	eachAttr(msg[rtmsgLen:], func(typ uint16, v []byte) {
		switch {
		case typ == rtaPrio && len(v) >= 4:
			r.metric = ne.Uint32(v)
		case typ == rtaMetrics:
			eachAttr(v, func(t uint16, m []byte) {
				switch {
				case t == rtaxMTU && len(m) >= 4:
					mtu = ne.Uint32(m)
				case t == rtaxLock && len(m) >= 4:
					locked = ne.Uint32(m)
				}
			})
		}
	})
	// An IPv6 route's MTU always counts (ip6_mtu_from_fib6); an IPv4
	// route's only when it is locked or the host forwards by path MTU
	// (ip_mtu_from_fib_result).
	if v6 || locked&(1<<rtaxMTU) != 0 || fibForwardUsePMTU() {
		r.mtu = mtu
	}
	return r
}

// fibGetRoute sends one RTM_GETROUTE for dst and returns the answer's
// body, or the error the kernel answered.
func fibGetRoute(v6 bool, dst [16]byte, oif, table, flags uint32) ([]byte, int64) {
	var buf [fibScratch]byte
	family, alen := byte(unix.AF_INET), 4
	if v6 {
		family, alen = unix.AF_INET6, 16
	}
	req := newNetlinkRequest(buf[:], unix.RTM_GETROUTE, rtmsgLen)
	req.body[0], req.body[1] = family, byte(8*alen) // rtm_family, rtm_dst_len
	binary.NativeEndian.PutUint32(req.body[8:], flags)
	req.attr(rtaDst, dst[:alen])
	if oif != 0 {
		req.attr(rtaOif, binary.NativeEndian.AppendUint32(nil, oif))
	}
	if table != 0 {
		req.attr(rtaTable, binary.NativeEndian.AppendUint32(nil, table))
	}
	msg, errno := req.do(unix.RTM_NEWROUTE)
	return append([]byte(nil), msg...), errno
}

// fibForwardUsePMTU reports net.ipv4.ip_forward_use_pmtu.
func fibForwardUsePMTU() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward_use_pmtu")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// fibNeighbour returns the link-layer address of addr's neighbour entry
// on ifindex, if it has a valid one.
func fibNeighbour(v6 bool, ifindex uint32, addr [16]byte) ([6]byte, bool) {
	var buf [fibScratch]byte
	family, alen := byte(unix.AF_INET), 4
	if v6 {
		family, alen = unix.AF_INET6, 16
	}
	req := newNetlinkRequest(buf[:], unix.RTM_GETNEIGH, ndmsgLen)
	req.body[0] = family
	binary.NativeEndian.PutUint32(req.body[4:], ifindex)
	req.attr(ndaDst, addr[:alen])
	msg, errno := req.do(unix.RTM_NEWNEIGH)
	var mac [6]byte
	if errno != 0 || len(msg) < ndmsgLen || binary.NativeEndian.Uint16(msg[8:])&nudValid == 0 {
		return mac, false
	}
	found := false
	eachAttr(msg[ndmsgLen:], func(typ uint16, v []byte) {
		if typ == ndaLladdr && len(v) == 6 {
			copy(mac[:], v)
			found = true
		}
	})
	return mac, found
}

// netlinkRequest builds one NETLINK_ROUTE request in a buffer.
type netlinkRequest struct {
	buf  []byte
	n    int    // bytes used
	body []byte // the fixed header after nlmsghdr
}

func newNetlinkRequest(buf []byte, typ uint16, bodyLen int) *netlinkRequest {
	clear(buf)
	ne := binary.NativeEndian
	ne.PutUint16(buf[4:], typ)
	ne.PutUint16(buf[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(buf[8:], 1) // sequence
	return &netlinkRequest{buf: buf, n: nlmsgHdrLen + bodyLen, body: buf[nlmsgHdrLen : nlmsgHdrLen+bodyLen]}
}

// attr appends an attribute (its data is at most a few bytes).
func (r *netlinkRequest) attr(typ uint16, data []byte) {
	ne := binary.NativeEndian
	ne.PutUint16(r.buf[r.n:], uint16(4+len(data)))
	ne.PutUint16(r.buf[r.n+2:], typ)
	copy(r.buf[r.n+4:], data)
	r.n += (4 + len(data) + 3) &^ 3
}

// do sends the request and returns the answer's body (after nlmsghdr) if
// it is of type want, else the error the kernel answered (negated).
func (r *netlinkRequest) do(want uint16) ([]byte, int64) {
	ne := binary.NativeEndian
	ne.PutUint32(r.buf[0:], uint32(r.n))
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, eNODEV
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, r.buf[:r.n]); err != nil {
		return nil, eNODEV
	}
	// The kernel answers while it handles the request: the answer is
	// queued when Write returns.
	n, err := unix.Read(fd, r.buf)
	if err != nil || n < nlmsgHdrLen {
		return nil, eNODEV
	}
	l := int(ne.Uint32(r.buf[0:]))
	if l > n || l < nlmsgHdrLen {
		return nil, eNODEV
	}
	msg := r.buf[nlmsgHdrLen:l]
	switch ne.Uint16(r.buf[4:]) {
	case want:
		return msg, 0
	case unix.NLMSG_ERROR:
		if len(msg) >= 4 {
			if e := int32(ne.Uint32(msg)); e < 0 {
				return nil, int64(e)
			}
		}
	}
	return nil, eNODEV
}

// eachAttr calls fn with each attribute of a netlink attribute list.
func eachAttr(b []byte, fn func(typ uint16, v []byte)) {
	ne := binary.NativeEndian
	for len(b) >= 4 {
		l := int(ne.Uint16(b[0:]))
		if l < 4 || l > len(b) {
			return
		}
		fn(ne.Uint16(b[2:])&^(1<<15|1<<14), b[4:l]) // without NLA_F_NESTED, NLA_F_NET_BYTEORDER
		l = (l + 3) &^ 3
		if l > len(b) {
			return
		}
		b = b[l:]
	}
}
