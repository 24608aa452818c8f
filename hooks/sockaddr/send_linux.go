package sockaddr

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// errNotSupp is the kernel's ENOTSUPP (524), which udpv6_sendmsg returns
// when a sendmsg6 program rewrites the destination to an IPv4-mapped one.
const errNotSupp = unix.Errno(524)

// udpSend runs the sendmsg programs on a UDP send as udp_sendmsg and
// udpv6_sendmsg do, and returns the address and the control messages to
// send with (the programs may rewrite the destination and the message
// source, msg_src_ip4/6). addr is the caller's destination, empty if none;
// ctl its control messages. Which program runs, and the checks before and
// after it, follow Linux:
//   - an IPv4 socket runs sendmsg4 on an AF_INET (or AF_UNSPEC) address;
//   - an IPv6 socket runs sendmsg4 on an AF_INET address and on an
//     IPv4-mapped one, sendmsg6 on other AF_INET6 addresses, and none on
//     an AF_UNSPEC address (which it takes as none);
//   - without an address, an IPv6 socket connected to an IPv4-mapped peer
//     runs sendmsg4 on the peer (udpv6_sendmsg hands it to udp_sendmsg as
//     the address); other sends without an address run no program.
func (w *worker) udpSend(addr, ctl []byte) ([]byte, []byte, unix.Errno) {
	v6 := w.sock.domain == unix.AF_INET6
	if len(addr) == 1 {
		return addr, ctl, 0 // too short for a family: the kernel's EINVAL
	}
	fam := uint16(unix.AF_UNSPEC)
	if len(addr) >= 2 {
		fam = binary.LittleEndian.Uint16(addr)
	}
	if v6 && len(addr) >= 2 && fam == unix.AF_UNSPEC {
		// udpv6_sendmsg takes it as no address, but sends to the peer
		// as IPv6 even if it is IPv4-mapped: no program runs.
		return addr, ctl, 0
	}
	if len(addr) == 0 {
		if !v6 || len(w.l.progs[hookSendmsg4]) == 0 {
			return addr, ctl, 0
		}
		var peer [maxAddr]byte
		l := uint32(maxAddr)
		_, _, e := unix.RawSyscall(unix.SYS_GETPEERNAME, uintptr(w.sock.fd), uintptr(unsafe.Pointer(&peer[0])), uintptr(unsafe.Pointer(&l)))
		if e != 0 || l < 24 || binary.LittleEndian.Uint16(peer[:]) != unix.AF_INET6 || !isV4Mapped(peer[8:24]) {
			return addr, ctl, 0 // not connected (EDESTADDRREQ), or to an IPv6 peer
		}
		// Sent to the checked (maybe rewritten) peer explicitly: a
		// racing connect changes nothing.
		addr = w.addr[:l]
		copy(addr, peer[:l])
		fam = unix.AF_INET6
	}
	switch {
	case !v6:
		if len(addr) < 16 {
			return nil, nil, unix.EINVAL
		}
		if fam != unix.AF_INET && fam != unix.AF_UNSPEC {
			return nil, nil, unix.EAFNOSUPPORT
		}
		return w.udpSend4(addr, ctl)
	case fam == unix.AF_INET:
		if w.v6Only() {
			return nil, nil, unix.ENETUNREACH
		}
		if len(addr) < 16 {
			return nil, nil, unix.EINVAL
		}
		return w.udpSend4(addr, ctl)
	case fam != unix.AF_INET6 || len(addr) < 24:
		return nil, nil, unix.EINVAL
	case isV4Mapped(addr[8:24]):
		if w.v6Only() {
			return nil, nil, unix.ENETUNREACH
		}
		var v4 [16]byte
		binary.LittleEndian.PutUint16(v4[:], unix.AF_INET)
		copy(v4[2:4], addr[2:4])
		copy(v4[4:8], addr[20:24])
		_, ctl, e := w.udpSend4(v4[:], ctl)
		if e != 0 {
			return nil, nil, e
		}
		copy(addr[2:4], v4[2:4])
		copy(addr[20:24], v4[4:8])
		return addr, ctl, 0
	}
	if addr[2] == 0 && addr[3] == 0 {
		return nil, nil, unix.EINVAL
	}
	w.src = w.sendSource(ctl, true)
	before := w.src
	if _, e := w.runHook(hookSendmsg6, addr); e != 0 {
		return nil, nil, e
	}
	switch {
	case isV4Mapped(addr[8:24]):
		return nil, nil, errNotSupp
	case addr[2] == 0 && addr[3] == 0:
		return nil, nil, unix.EINVAL
	}
	if w.src != before {
		ctl = w.withSource(ctl, true)
	}
	return addr, ctl, 0
}

// udpSend4 runs the sendmsg4 programs on the sockaddr_in addr (udp_sendmsg:
// a zero port is EINVAL before and after them).
func (w *worker) udpSend4(addr, ctl []byte) ([]byte, []byte, unix.Errno) {
	if addr[2] == 0 && addr[3] == 0 {
		return nil, nil, unix.EINVAL
	}
	w.src = w.sendSource(ctl, false)
	before := w.src
	if _, e := w.runHook(hookSendmsg4, addr); e != 0 {
		return nil, nil, e
	}
	if addr[2] == 0 && addr[3] == 0 {
		return nil, nil, unix.EINVAL
	}
	if w.src != before {
		ctl = w.withSource(ctl, false)
	}
	return addr, ctl, 0
}

// v6Only reports whether the taken IPv6 socket has IPV6_V6ONLY set.
func (w *worker) v6Only() bool {
	var v int32
	l := uint32(4)
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(w.sock.fd), unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	return e == 0 && v != 0
}

// pktinfo finds the control message that sets a send's source, whose
// address the sendmsg programs see as the message source: for sendmsg6
// (v6) IPV6_PKTINFO's ipi6_addr (ip6_datagram_send_ctl); for sendmsg4
// IP_PKTINFO's ipi_spec_dst, and on an IPv6 socket IPV6_PKTINFO's too
// (ip_cmsg_send). The last one counts. It returns the offset of the
// address in ctl and its length (4, or 16), or -1.
func (w *worker) pktinfo(ctl []byte, v6 bool) (int, int) {
	found, size := -1, 0
	v6Sock := w.sock.domain == unix.AF_INET6
	for off := 0; off+unix.SizeofCmsghdr <= len(ctl); {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctl[off]))
		if h.Len < unix.SizeofCmsghdr || uint64(off)+h.Len > uint64(len(ctl)) {
			break
		}
		data := off + unix.SizeofCmsghdr
		switch {
		case !v6 && h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && int(h.Len) >= unix.SizeofCmsghdr+unix.SizeofInet4Pktinfo:
			found, size = data+4, 4
		case (v6 || v6Sock) && h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && int(h.Len) >= unix.SizeofCmsghdr+unix.SizeofInet6Pktinfo:
			found, size = data, 16
		}
		off += (int(h.Len) + 7) &^ 7
	}
	return found, size
}

// sendSource is the message source the sendmsg programs see first, in
// w.src's layout (an IPv4 source in its first 4 bytes): the source of a
// PKTINFO control message, else the socket's own (inet_saddr for
// sendmsg4, np->saddr for sendmsg6).
func (w *worker) sendSource(ctl []byte, v6 bool) [16]byte {
	var src [16]byte
	if off, size := w.pktinfo(ctl, v6); off >= 0 {
		switch {
		case size == 16 && v6:
			copy(src[:], ctl[off:off+16])
		case size == 16:
			copy(src[:4], ctl[off+12:off+16]) // IPv4-mapped, for udp_sendmsg
		default:
			copy(src[:4], ctl[off:off+4])
		}
		// An unspecified IPv6 source leaves the socket's in place.
		if !v6 || src != [16]byte{} {
			return src
		}
	}
	var local [maxAddr]byte
	l := uint32(maxAddr)
	if _, _, e := unix.RawSyscall(unix.SYS_GETSOCKNAME, uintptr(w.sock.fd), uintptr(unsafe.Pointer(&local[0])), uintptr(unsafe.Pointer(&l))); e != 0 {
		return src
	}
	switch fam := binary.LittleEndian.Uint16(local[:]); {
	case fam == unix.AF_INET && l >= 8:
		copy(src[:4], local[4:8])
	case fam == unix.AF_INET6 && l >= 24 && v6:
		copy(src[:], local[8:24])
	case fam == unix.AF_INET6 && l >= 24 && isV4Mapped(local[8:24]):
		copy(src[:4], local[20:24])
	case fam == unix.AF_INET6 && l >= 24 && [16]byte(local[8:24]) != [16]byte{}:
		// inet6_bind gives a socket bound to an IPv6 address the IPv4
		// source LOOPBACK4_IPV6, 127.0.0.6.
		src[0], src[3] = 127, 6
	}
	return src
}

// withSource returns control messages that make the kernel send from
// w.src, the source the programs set: ctl with its PKTINFO message's
// source replaced, or ctl and a new PKTINFO message (IP_PKTINFO for an
// IPv4 source, IPV6_PKTINFO for an IPv6 one) in w.ctlSrc.
func (w *worker) withSource(ctl []byte, v6 bool) []byte {
	out := append(w.ctlSrc[:0], ctl...)
	if off, size := w.pktinfo(out, v6); off >= 0 {
		switch {
		case size == 16 && v6:
			copy(out[off:off+16], w.src[:])
		case size == 16:
			copy(out[off+12:off+16], w.src[:4])
		default:
			copy(out[off:off+4], w.src[:4])
		}
		w.ctlSrc = out
		return out
	}
	level, typ, size := unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo
	if v6 {
		level, typ, size = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo
	}
	start := (len(out) + 7) &^ 7 // control messages are 8-byte aligned
	out = append(out, make([]byte, start-len(out)+unix.CmsgSpace(size))...)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&out[start]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(size))
	data := out[start+unix.SizeofCmsghdr:]
	if v6 {
		copy(data[:16], w.src[:]) // ipi6_addr; ipi6_ifindex 0
	} else {
		copy(data[4:8], w.src[:4]) // ipi_spec_dst; ipi_ifindex 0
	}
	w.ctlSrc = out
	return out
}
