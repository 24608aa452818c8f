package xdp

import (
	"bytes"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func TestCompleteChecksum(t *testing.T) {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	ip4 := &layers.IPv4{Version: 4, TTL: 64, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	cases := []struct {
		name   string
		l3     gopacket.NetworkLayer
		l4     gopacket.SerializableLayer
		csumAt int // offset of the L4 checksum in the frame
	}{
		{"udp4", ip4, &layers.UDP{SrcPort: 1234, DstPort: 53}, 14 + 20 + 6},
		{"tcp4", ip4, &layers.TCP{SrcPort: 1234, DstPort: 80, Seq: 7, SYN: true, Window: 1000}, 14 + 20 + 16},
		{"udp6", ip6, &layers.UDP{SrcPort: 1234, DstPort: 53}, 14 + 40 + 6},
		{"tcp6", ip6, &layers.TCP{SrcPort: 1, DstPort: 2, ACK: true, Window: 9}, 14 + 40 + 16},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := *eth
			var l3 gopacket.SerializableLayer
			switch ip := c.l3.(type) {
			case *layers.IPv4:
				e.EthernetType = layers.EthernetTypeIPv4
				cp := *ip
				if _, ok := c.l4.(*layers.TCP); ok {
					cp.Protocol = layers.IPProtocolTCP
				} else {
					cp.Protocol = layers.IPProtocolUDP
				}
				l3 = &cp
				setNet(c.l4, &cp)
			case *layers.IPv6:
				e.EthernetType = layers.EthernetTypeIPv6
				cp := *ip
				if _, ok := c.l4.(*layers.TCP); ok {
					cp.NextHeader = layers.IPProtocolTCP
				} else {
					cp.NextHeader = layers.IPProtocolUDP
				}
				l3 = &cp
				setNet(c.l4, &cp)
			}
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true},
				&e, l3, c.l4, gopacket.Payload("hello, odd")); err != nil {
				t.Fatal(err)
			}
			want := append([]byte(nil), buf.Bytes()...)
			got := append([]byte(nil), want...)
			got[c.csumAt], got[c.csumAt+1] = 0x12, 0x34 // a partial sum
			completeChecksum(got)
			if !bytes.Equal(got, want) {
				t.Errorf("checksum %x, want %x", got[c.csumAt:c.csumAt+2], want[c.csumAt:c.csumAt+2])
			}
		})
	}
	// Frames that are no TCP/UDP over IP stay as they are.
	arp := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06, 1, 2, 3}
	in := append([]byte(nil), arp...)
	completeChecksum(in)
	if !bytes.Equal(in, arp) {
		t.Error("an ARP frame changed")
	}
	completeChecksum(nil)
}

func setNet(l4 gopacket.SerializableLayer, ip gopacket.NetworkLayer) {
	switch l := l4.(type) {
	case *layers.TCP:
		l.SetNetworkLayerForChecksum(ip)
	case *layers.UDP:
		l.SetNetworkLayerForChecksum(ip)
	}
}
