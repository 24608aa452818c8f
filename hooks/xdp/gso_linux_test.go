package xdp

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// aggregate builds an Ethernet frame with an IPv4 or IPv6 header and a TCP
// (flags FIN|PSH|CWR|ACK, seq 1000) or UDP header before payload.
func aggregate(ipv4, tcp bool, payload []byte) []byte {
	l4len := 8
	if tcp {
		l4len = 20
	}
	var ip []byte
	proto := byte(17)
	if tcp {
		proto = 6
	}
	if ipv4 {
		ip = make([]byte, 20)
		ip[0], ip[8], ip[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(ip[2:], uint16(20+l4len+len(payload)))
		binary.BigEndian.PutUint16(ip[4:], 0x1234)
		binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
		copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	} else {
		ip = make([]byte, 40)
		ip[0], ip[6], ip[7] = 0x60, proto, 64
		binary.BigEndian.PutUint16(ip[4:], uint16(l4len+len(payload)))
		ip[23], ip[39] = 1, 2
	}
	l4 := make([]byte, l4len)
	binary.BigEndian.PutUint16(l4[0:], 40000)
	binary.BigEndian.PutUint16(l4[2:], 80)
	if tcp {
		binary.BigEndian.PutUint32(l4[4:], 1000)
		l4[12], l4[13] = 5<<4, 0x80|0x10|0x08|0x01
	} else {
		binary.BigEndian.PutUint16(l4[4:], uint16(8+len(payload)))
	}
	eth := make([]byte, 14)
	binary.BigEndian.PutUint16(eth[12:], map[bool]uint16{true: 0x0800, false: 0x86dd}[ipv4])
	return append(append(append(eth, ip...), l4...), payload...)
}

// checksumOK reports whether the frame's IPv4 header checksum and TCP/UDP
// checksum verify.
func checksumOK(t *testing.T, frame []byte, p gsoPlan) bool {
	t.Helper()
	l4 := frame[p.l4:]
	var sum uint32
	if p.ipv4 {
		if fold(sum16(frame[p.l3:p.l4], 0)) != 0xffff {
			return false
		}
		sum = sum16(frame[p.l3+12:p.l3+20], 0)
	} else {
		sum = sum16(frame[p.l3+8:p.l3+40], 0)
	}
	sum += uint32(frame[map[bool]int{true: p.l3 + 9, false: p.l3 + 6}[p.ipv4]]) + uint32(len(l4))
	return fold(sum16(l4, sum)) == 0xffff
}

// TestSegmentGSO: an aggregate is cut into segments of gso_size payload,
// each with its own lengths, IPv4 ID, TCP sequence number and flags, and
// valid checksums; the payloads put together are the aggregate's.
func TestSegmentGSO(t *testing.T) {
	payload := make([]byte, 3000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	for _, c := range []struct {
		name      string
		ipv4, tcp bool
		gsoType   uint8
	}{
		{"TCPv4", true, true, gsoTCPv4},
		{"TCPv6", false, true, gsoTCPv6},
		{"TCPv4 ECN", true, true, gsoTCPv4 | gsoECN},
		{"UDPv4", true, false, gsoUDPL4},
		{"UDPv6", false, false, gsoUDPL4},
	} {
		agg := aggregate(c.ipv4, c.tcp, payload)
		p, err := planGSO(agg, c.gsoType, 1400)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p.count != 3 {
			t.Fatalf("%s: %d segments, want 3", c.name, p.count)
		}
		var got []byte
		for k := 0; k < p.count; k++ {
			dst := make([]byte, p.hdrs+p.size)
			seg := dst[:p.segment(dst, agg, k)]
			want := []int{1400, 1400, 200}[k]
			if len(seg) != p.hdrs+want {
				t.Errorf("%s segment %d: %d bytes, want %d", c.name, k, len(seg), p.hdrs+want)
			}
			if !checksumOK(t, seg, p) {
				t.Errorf("%s segment %d: bad checksum", c.name, k)
			}
			ip := seg[14:]
			if c.ipv4 {
				if l, id := binary.BigEndian.Uint16(ip[2:]), binary.BigEndian.Uint16(ip[4:]); int(l) != len(ip) || id != 0x1234+uint16(k) {
					t.Errorf("%s segment %d: total length %d, ID %#x", c.name, k, l, id)
				}
			} else if l := binary.BigEndian.Uint16(ip[4:]); int(l) != len(ip)-40 {
				t.Errorf("%s segment %d: payload length %d", c.name, k, l)
			}
			l4 := seg[p.l4:]
			if c.tcp {
				seq, flags := binary.BigEndian.Uint32(l4[4:]), l4[13]
				wantFlags := byte(0x10)
				if k == 0 {
					wantFlags |= 0x80
				}
				if k == 2 {
					wantFlags |= 0x08 | 0x01
				}
				if seq != 1000+uint32(k*1400) || flags != wantFlags {
					t.Errorf("%s segment %d: seq %d, flags %#x; want %d, %#x", c.name, k, seq, flags, 1000+k*1400, wantFlags)
				}
			} else if l := binary.BigEndian.Uint16(l4[4:]); int(l) != len(l4) {
				t.Errorf("%s segment %d: UDP length %d", c.name, k, l)
			}
			got = append(got, seg[p.hdrs:]...)
		}
		if !bytes.Equal(got, payload) {
			t.Errorf("%s: the segments' payloads differ from the aggregate's", c.name)
		}
	}
}

// TestPlanGSORefuses: what bpfhost cannot cut is refused (and then counted
// as oversize by the worker).
func TestPlanGSORefuses(t *testing.T) {
	tcp4 := aggregate(true, true, make([]byte, 3000))
	udp4 := aggregate(true, false, make([]byte, 3000))
	frag := append([]byte(nil), tcp4...)
	frag[14+6] |= 0x20 // more fragments
	short := tcp4[:len(tcp4)-1]
	badDoff := append([]byte(nil), tcp4...)
	badDoff[14+20+12] = 1 << 4
	arp := append([]byte(nil), tcp4...)
	arp[12], arp[13] = 0x08, 0x06
	for _, c := range []struct {
		name    string
		frame   []byte
		gsoType uint8
		size    int
	}{
		{"TCP as UDP_L4", tcp4, gsoUDPL4, 1400},
		{"UDP as TCPv4", udp4, gsoTCPv4, 1400},
		{"TCPv4 as TCPv6", tcp4, gsoTCPv6, 1400},
		{"zero gso_size", tcp4, gsoTCPv4, 0},
		{"fragment", frag, gsoTCPv4, 1400},
		{"IP length past the frame", short, gsoTCPv4, 1400},
		{"not IP", arp, gsoTCPv4, 1400},
		{"runt", tcp4[:10], gsoTCPv4, 1400},
		{"TCP data offset under 5", badDoff, gsoTCPv4, 1400},
		{"too many segments", tcp4, gsoTCPv4, 1},
	} {
		if _, err := planGSO(c.frame, c.gsoType, c.size); err == nil {
			t.Errorf("%s: planned", c.name)
		}
	}
}

// TestTakeSegments: the worker cuts an aggregate with a virtio_net_hdr into
// frames of the batch, putting back a VLAN tag the kernel moved to
// metadata; one it cannot cut counts as oversize.
func TestTakeSegments(t *testing.T) {
	l := &Link{stop: -1}
	l.sizePages(1500)
	wk, err := newWorker(l, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.close()
	wk.socks = []rxSock{{fd: -1, ifc: &iface{name: "a", index: 3, mtu: 1500, fd: -1}, queue: 2}}
	payload := make([]byte, 3000)
	agg := aggregate(true, true, payload)
	vnet := make([]byte, vnetHdrLen)
	vnet[1] = gsoTCPv4
	binary.NativeEndian.PutUint16(vnet[4:], 1448)
	n := wk.take(0, 0, agg, uint32(len(agg)), tpStatusVLANValid, 5, 0, vnet)
	if n != 3 || wk.c.segments.Load() != 3 || wk.c.oversize.Load() != 0 {
		t.Fatalf("%d frames, %d segments, %d oversize; want 3, 3, 0", n, wk.c.segments.Load(), wk.c.oversize.Load())
	}
	p, _ := planGSO(agg, gsoTCPv4, 1448)
	for k := 0; k < n; k++ {
		f := &wk.frames[k]
		frame := f.Page[f.Data:f.End]
		if binary.BigEndian.Uint16(frame[12:]) != 0x8100 || binary.BigEndian.Uint16(frame[14:]) != 5 {
			t.Errorf("segment %d: tag %x, want 8100 0005", k, frame[12:16])
		}
		// Without the tag, the segment is what planGSO cuts.
		untagged := append(append([]byte(nil), frame[:12]...), frame[16:]...)
		if !checksumOK(t, untagged, p) || f.IngressIfindex != 3 || f.RxQueueIndex != 2 || len(untagged) > 1514 {
			t.Errorf("segment %d: %d bytes, ifindex %d, queue %d, checksums ok %v", k, len(untagged), f.IngressIfindex, f.RxQueueIndex, checksumOK(t, untagged, p))
		}
	}
	vnet[1] = gsoUDPL4 // not what the frame is
	if n := wk.take(0, 0, agg, uint32(len(agg)), 0, 0, 0, vnet); n != 0 || wk.c.oversize.Load() != 1 {
		t.Errorf("uncuttable aggregate: %d frames, %d oversize; want 0 and 1", n, wk.c.oversize.Load())
	}
}

// FuzzSegmentGSO: planning and cutting any frame never panics, and every
// segment fits the buffer the plan asks for.
func FuzzSegmentGSO(f *testing.F) {
	f.Add(aggregate(true, true, make([]byte, 3000)), uint8(gsoTCPv4), uint16(1400))
	f.Add(aggregate(false, false, make([]byte, 2000)), uint8(gsoUDPL4), uint16(1000))
	f.Add(aggregate(false, true, make([]byte, 100)), uint8(gsoTCPv6), uint16(30))
	f.Fuzz(func(t *testing.T, frame []byte, gsoType uint8, size uint16) {
		p, err := planGSO(frame, gsoType, int(size))
		if err != nil {
			return
		}
		dst := make([]byte, p.hdrs+p.size)
		total := 0
		for k := 0; k < p.count; k++ {
			n := p.segment(dst, frame, k)
			if n > len(dst) || n <= p.hdrs {
				t.Fatalf("segment %d: %d bytes of a %d-byte buffer, headers %d", k, n, len(dst), p.hdrs)
			}
			total += n - p.hdrs
		}
		if total != len(frame)-p.hdrs {
			t.Fatalf("segments carry %d payload bytes of %d", total, len(frame)-p.hdrs)
		}
	})
}
