package xdp

import (
	"encoding/binary"
	"errors"
)

// virtio_net_hdr (linux/virtio_net.h): with PACKET_VNET_HDR, the kernel
// puts one in front of each frame of the ring, saying how a local sender's
// aggregate (TSO/GSO over veth) is to be cut into segments.
const (
	vnetHdrLen = 10
	gsoNone    = 0
	gsoTCPv4   = 1
	gsoTCPv6   = 4
	gsoUDPL4   = 5
	gsoECN     = 0x80
)

// gsoPlan is how an aggregate is cut: the offsets of its IP and L4
// headers, the length of all its headers (repeated in every segment), the
// payload per segment and the number of segments.
type gsoPlan struct {
	l3, l4, hdrs, size, count int
	ipv4, tcp                 bool
}

// maxSegments bounds the segments of one aggregate: 64 KiB cut at a TCP
// MSS as small as Linux allows is well within it.
const maxSegments = 2048

var errGSO = errors.New("not a TCP or UDP aggregate over IPv4 or IPv6 that bpfhost can segment")

// planGSO checks that frame (an Ethernet frame with no VLAN tag in it) is a
// TCP or UDP aggregate of the virtio gso type with segments of size bytes
// of payload, and plans its segments.
func planGSO(frame []byte, gsoType uint8, size int) (gsoPlan, error) {
	p := gsoPlan{l3: 14, size: size}
	if len(frame) < 14 || size <= 0 {
		return p, errGSO
	}
	var proto byte
	switch binary.BigEndian.Uint16(frame[12:]) {
	case 0x0800:
		ip := frame[14:]
		if len(ip) < 20 || ip[0]>>4 != 4 || int(binary.BigEndian.Uint16(ip[2:])) != len(ip) ||
			binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			return p, errGSO
		}
		p.ipv4, proto = true, ip[9]
		p.l4 = 14 + int(ip[0]&0xf)*4
	case 0x86dd:
		ip := frame[14:]
		if len(ip) < 40 || 40+int(binary.BigEndian.Uint16(ip[4:])) != len(ip) {
			return p, errGSO
		}
		proto, p.l4 = ip[6], 14+40 // extension headers: not cut
	default:
		return p, errGSO
	}
	switch {
	case proto == 6 && (gsoType&^gsoECN == gsoTCPv4 && p.ipv4 || gsoType&^gsoECN == gsoTCPv6 && !p.ipv4):
		if len(frame) < p.l4+20 {
			return p, errGSO
		}
		p.tcp = true
		doff := int(frame[p.l4+12] >> 4)
		if doff < 5 {
			return p, errGSO
		}
		p.hdrs = p.l4 + doff*4
	case proto == 17 && gsoType == gsoUDPL4:
		p.hdrs = p.l4 + 8
	default:
		return p, errGSO
	}
	if p.hdrs > len(frame) || (p.ipv4 && p.l4 < 14+20) {
		return p, errGSO
	}
	p.count = (len(frame) - p.hdrs + size - 1) / size
	if p.count == 0 || p.count > maxSegments {
		return p, errGSO
	}
	return p, nil
}

// segment writes segment k of frame into dst, as a NIC's segmentation
// would put it on the wire: the headers repeated, IPv4 total length, ID
// (+k) and header checksum, IPv6 payload length, TCP sequence number (FIN
// and PSH on the last segment only, CWR on the first only) or UDP length,
// and the TCP or UDP checksum. It returns the segment's length; dst must
// hold p.hdrs+p.size bytes.
func (p *gsoPlan) segment(dst, frame []byte, k int) int {
	start := p.hdrs + k*p.size
	end := min(start+p.size, len(frame))
	n := p.hdrs + end - start
	copy(dst, frame[:p.hdrs])
	copy(dst[p.hdrs:], frame[start:end])
	ip := dst[p.l3:n]
	if p.ipv4 {
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		binary.BigEndian.PutUint16(ip[4:], binary.BigEndian.Uint16(frame[p.l3+4:])+uint16(k))
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], ^fold(sum16(ip[:p.l4-p.l3], 0)))
	} else {
		binary.BigEndian.PutUint16(ip[4:], uint16(len(ip)-40))
	}
	l4 := dst[p.l4:n]
	if p.tcp {
		binary.BigEndian.PutUint32(l4[4:], binary.BigEndian.Uint32(frame[p.l4+4:])+uint32(k*p.size))
		if k < p.count-1 {
			l4[13] &^= 0x01 | 0x08 // FIN, PSH
		}
		if k > 0 {
			l4[13] &^= 0x80 // CWR
		}
	} else {
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
	}
	completeChecksum(dst[:n])
	return n
}
