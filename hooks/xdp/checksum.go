package xdp

import "encoding/binary"

// completeChecksum fills in the TCP or UDP checksum of an IPv4 or IPv6
// frame whose sender left it to the hardware (CHECKSUM_PARTIAL: AF_PACKET
// reports TP_STATUS_CSUMNOTREADY for frames from a local socket over veth),
// so that the program sees, and the far side receives, the frame as it
// would be on a wire. Other frames are left as they are.
func completeChecksum(frame []byte) {
	if len(frame) < 14 {
		return
	}
	proto := binary.BigEndian.Uint16(frame[12:])
	ip := frame[14:]
	var sum uint32
	var l4 []byte
	var next byte
	switch proto {
	case 0x0800:
		if len(ip) < 20 || ip[0]>>4 != 4 {
			return
		}
		ihl := int(ip[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if ihl < 20 || total < ihl || total > len(ip) || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			return // fragments carry no complete L4 header
		}
		next = ip[9]
		l4 = ip[ihl:total]
		sum = sum16(ip[12:20], 0)
	case 0x86dd:
		if len(ip) < 40 {
			return
		}
		payload := int(binary.BigEndian.Uint16(ip[4:]))
		if 40+payload > len(ip) {
			return
		}
		next = ip[6] // extension headers are left alone
		l4 = ip[40 : 40+payload]
		sum = sum16(ip[8:40], 0)
	default:
		return
	}
	var off int
	switch next {
	case 6: // TCP
		off = 16
	case 17: // UDP
		off = 6
	default:
		return
	}
	if len(l4) < off+2 {
		return
	}
	sum += uint32(next) + uint32(len(l4))
	l4[off], l4[off+1] = 0, 0
	sum = sum16(l4, sum)
	c := ^fold(sum)
	if c == 0 && next == 17 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(l4[off:], c)
}

// sum16 adds b as big-endian 16-bit words (a trailing odd byte padded with
// zero) to sum.
func sum16(b []byte, sum uint32) uint32 {
	s := uint64(sum)
	for ; len(b) >= 2; b = b[2:] {
		s += uint64(b[0])<<8 | uint64(b[1])
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint32(s)
}

func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
