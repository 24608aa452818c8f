package helpers

import (
	"encoding/binary"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// SockAddresses fills the address fields of out, whose family, protocol
// and state are set, from the socket's local and remote addresses (16
// bytes each, an IPv4 socket's IPv4-mapped; zero for none), as Linux's
// socket keeps them and bpf_sock_convert_ctx_access reads them: both
// families' fields exist in every socket, and which ones Linux fills
// depends on how the socket got its addresses. Ports are not touched.
func SockAddresses(out *linux.SockContext, src, dst [16]byte) {
	ne := binary.NativeEndian
	v6 := func(a [16]byte) (w [4]uint32) {
		for i := range w {
			w[i] = ne.Uint32(a[4*i:])
		}
		return w
	}
	if out.Family == afInet {
		out.SrcIP4, out.DstIP4 = ne.Uint32(src[12:]), ne.Uint32(dst[12:])
		if out.Protocol == ipprotoTCP && out.State != tcpListen && out.State != tcpClose {
			// A connected TCP socket got its addresses through Linux's
			// sk_rcv_saddr_set and sk_daddr_set, which also keep them
			// IPv4-mapped in the IPv6 fields (a socket bound before it
			// connected has only the remote one: decision 0025).
			out.SrcIP6, out.DstIP6 = v6(src), v6(dst)
		}
		return
	}
	out.SrcIP6, out.DstIP6 = v6(src), v6(dst)
	// The IPv4 fields of an IPv6 socket: an IPv4-mapped end's address;
	// for a local address that has no IPv4 form, LOOPBACK4_IPV6, which
	// Linux's bind and connect put there.
	switch {
	case isMapped(src[:]):
		out.SrcIP4 = ne.Uint32(src[12:])
	case !isZero(src[:]):
		out.SrcIP4 = loopback4IPv6
	}
	if isMapped(dst[:]) {
		out.DstIP4 = ne.Uint32(dst[12:])
	}
}

// mapped4 returns the IPv4-mapped form of a 4-byte address.
func mapped4(a []byte) (m [16]byte) {
	m[10], m[11] = 0xff, 0xff
	copy(m[12:], a)
	return m
}

// loopback4IPv6 is LOOPBACK4_IPV6, 127.0.0.6, as the socket keeps it.
var loopback4IPv6 = binary.NativeEndian.Uint32([]byte{127, 0, 0, 6})

func isZero(a []byte) bool {
	for _, b := range a {
		if b != 0 {
			return false
		}
	}
	return true
}

func isMapped(a []byte) bool {
	for _, b := range a[:10] {
		if b != 0 {
			return false
		}
	}
	return a[10] == 0xff && a[11] == 0xff
}
