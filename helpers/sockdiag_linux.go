package helpers

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// Socket lookups on Linux ask the kernel through NETLINK_SOCK_DIAG for the
// one socket a tuple names (an inet_diag_req_v2 without NLM_F_DUMP): the
// kernel answers with the same lookup its helpers make — for TCP
// established connections by the 4-tuple and then listeners by the local
// address and port (inet_lookup), for UDP the best-scoring socket
// (__udp4_lib_lookup) — in the network namespace of the calling thread.
// Each lookup opens its own netlink socket, so it asks the namespace the
// run's thread is in at that moment.

// sockScratch is the buffer of one request and its answer: the request is
// 72 bytes; the answer an inet_diag_msg with a few attributes.
const sockScratch = 512

// Netlink and inet_diag layout (linux/netlink.h, linux/inet_diag.h).
const (
	nlmsgHdrLen     = 16
	inetDiagReqLen  = 56
	inetDiagMsgLen  = 72
	inetDiagMark    = 15 // INET_DIAG_MARK
	inetDiagClassID = 17 // INET_DIAG_CLASS_ID
	inetDiagTClass  = 6  // INET_DIAG_TCLASS: its ext bit asks for the class id too

	tcpTimeWait   = 6  // TCP_TIME_WAIT
	tcpNewSynRecv = 12 // TCP_NEW_SYN_RECV: a request socket
)

// lookupSocket resolves q against the host's sockets and fills out and id
// (the socket's cookie and inode, for sk storage); false if no socket
// matches (or the host cannot be asked).
func lookupSocket(q *SockLookup, out *linux.SockContext, id *maps.SocketID, buf *[sockScratch]byte) bool {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	local, remote := q.Tuple.Dst, q.Tuple.Src
	lport, rport := q.Tuple.DstPort, q.Tuple.SrcPort
	st, ok := diagOne(fd, q, local, lport, remote, rport, out, id, buf)
	if ok && q.Tuple.V6 && out.Family == unix.AF_INET {
		// sock_diag looks IPv4-mapped IPv6 ends up among IPv4 sockets
		// (inet_diag_find_one_icsk); Linux's IPv6 lookup finds only IPv6
		// sockets (a dual-stack one answers for an IPv4-mapped peer).
		return false
	}
	if !ok || q.Protocol != ipprotoTCP || !q.Full {
		return ok
	}
	switch st {
	case tcpTimeWait:
		return false
	case tcpNewSynRecv:
		// A connection in its handshake: Linux's full socket is its
		// listener, found by the local end alone.
		_, ok = diagOne(fd, q, local, lport, [16]byte{}, 0, out, id, buf)
		return ok
	}
	if out.Family == unix.AF_INET6 && st != tcpListen && st != tcpClose && out.DstIP4 == 0 {
		// Linux's tcp_v6_syn_recv_sock gives an accepted IPv6 connection
		// LOOPBACK4_IPV6 as its IPv4 remote address; one that connected
		// has none. sock_diag does not say which it is: a listener on the
		// connection's local end says it was accepted.
		var l linux.SockContext
		if st, ok := diagOne(fd, q, local, lport, [16]byte{}, 0, &l, nil, buf); ok && st == tcpListen {
			out.DstIP4 = loopback4IPv6
		}
	}
	return true
}

// diagOne asks for the socket with the local and remote ends and fills
// out and found (if not nil); it returns the socket's state.
func diagOne(fd int, q *SockLookup, local [16]byte, lport uint16, remote [16]byte, rport uint16, out *linux.SockContext, found *maps.SocketID, buf *[sockScratch]byte) (uint8, bool) {
	family := uint8(unix.AF_INET)
	if q.Tuple.V6 {
		family = unix.AF_INET6
	}
	req := buf[:nlmsgHdrLen+inetDiagReqLen]
	clear(req)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(req[8:], 1) // sequence
	r := req[nlmsgHdrLen:]
	r[0], r[1], r[2] = family, q.Protocol, 1<<(inetDiagTClass-1)
	ne.PutUint32(r[4:], ^uint32(0)) // every state
	id := r[8:]
	// inet_diag_sockid: sport, dport (network order), src, dst, if, cookie.
	// TCP's src is the socket's local end; UDP's exact lookup takes them
	// swapped (net/ipv4/udp_diag.c: "for historical reasons").
	src, sport, dst, dport := local, lport, remote, rport
	if q.Protocol == ipprotoUDP {
		src, sport, dst, dport = remote, rport, local, lport
	}
	binary.BigEndian.PutUint16(id[0:], sport)
	binary.BigEndian.PutUint16(id[2:], dport)
	copy(id[4:20], src[:])
	copy(id[20:36], dst[:])
	ne.PutUint32(id[36:], q.Ifindex)
	ne.PutUint32(id[40:], ^uint32(0)) // INET_DIAG_NOCOOKIE
	ne.PutUint32(id[44:], ^uint32(0))
	if _, err := unix.Write(fd, req); err != nil {
		return 0, false
	}
	// The kernel answers while it handles the request: the answer is
	// queued when Write returns (a non-blocking read cannot wait).
	n, err := unix.Read(fd, buf[:])
	if err != nil || n < nlmsgHdrLen+inetDiagMsgLen {
		return 0, false
	}
	msg := buf[:n]
	if l := ne.Uint32(msg[0:]); l > uint32(n) || l < nlmsgHdrLen+inetDiagMsgLen || ne.Uint16(msg[4:]) != unix.SOCK_DIAG_BY_FAMILY {
		return 0, false // NLMSG_ERROR: no such socket
	} else {
		msg = msg[:l]
	}
	m := msg[nlmsgHdrLen:]
	fillSock(out, q.Protocol, m, msg[nlmsgHdrLen+inetDiagMsgLen:])
	if found != nil {
		// inet_diag_msg: idiag_cookie[2] at 44, idiag_inode at 68.
		*found = maps.SocketID{Cookie: uint64(ne.Uint32(m[44:])) | uint64(ne.Uint32(m[48:]))<<32, Inode: uint64(ne.Uint32(m[68:]))}
	}
	return m[1], true
}

// fillSock fills a struct bpf_sock from an inet_diag_msg and its
// attributes, as Linux's bpf_sock_convert_ctx_access reads the socket.
func fillSock(out *linux.SockContext, proto uint8, m, attrs []byte) {
	ne := binary.NativeEndian
	*out = linux.SockContext{
		BoundDevIf:     ne.Uint32(m[40:]),
		Family:         uint32(m[0]),
		Protocol:       uint32(proto),
		State:          uint32(m[1]),
		SrcPort:        uint32(binary.BigEndian.Uint16(m[4:])),
		DstPort:        ne.Uint16(m[6:]), // network order, as the socket keeps it
		RxQueueMapping: -1,               // not recorded for the socket
	}
	out.Type = unix.SOCK_STREAM
	if proto == ipprotoUDP {
		out.Type = unix.SOCK_DGRAM
	}
	var src, dst [16]byte
	if m[0] == unix.AF_INET {
		src, dst = mapped4(m[8:12]), mapped4(m[24:28])
	} else {
		copy(src[:], m[8:24])
		copy(dst[:], m[24:40])
	}
	SockAddresses(out, src, dst)
	for len(attrs) >= 4 {
		l := int(ne.Uint16(attrs[0:]))
		if l < 4 || l > len(attrs) {
			break
		}
		switch typ := ne.Uint16(attrs[2:]); {
		case typ == inetDiagMark && l >= 8:
			out.Mark = ne.Uint32(attrs[4:])
		case typ == inetDiagClassID && l >= 8:
			// The cgroup class id, or the socket's priority when it has
			// none (inet_diag_msg_attrs_fill).
			out.Priority = ne.Uint32(attrs[4:])
		}
		l = (l + 3) &^ 3
		if l > len(attrs) {
			break
		}
		attrs = attrs[l:]
	}
}
