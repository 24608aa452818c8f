// Command traffic writes examples/traffic.pcap: a small, fixed capture of the
// kinds of packets the example programs parse (VLAN and QinQ tags, IPv4 with
// and without options, IPv6, TCP, UDP, ICMP, ARP, a runt frame), including
// sources inside the blocklist prefixes of examples/firewall-blocklist.json.
//
//	go run ./examples/traffic -o examples/traffic.pcap
package main

import (
	"flag"
	"log"
	"net"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var (
	srcMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	dstMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

type packet struct {
	vlans   []uint16 // outer first
	ip4     *layers.IPv4
	ip6     *layers.IPv6
	tcp     *layers.TCP
	udp     *layers.UDP
	icmp    bool
	arp     bool
	payload []byte
}

func v4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func v6(src, dst string, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
}

func tcp(sport, dport uint16, syn bool) *layers.TCP {
	return &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1000, SYN: syn, ACK: !syn, Window: 65535}
}

func udp(sport, dport uint16) *layers.UDP {
	return &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
}

func (p packet) bytes() []byte {
	var ls []gopacket.SerializableLayer
	ethType := layers.EthernetTypeIPv4
	switch {
	case p.ip6 != nil:
		ethType = layers.EthernetTypeIPv6
	case p.arp:
		ethType = layers.EthernetTypeARP
	}
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: ethType}
	ls = append(ls, eth)
	if len(p.vlans) > 0 {
		eth.EthernetType = layers.EthernetTypeDot1Q
		if len(p.vlans) > 1 {
			eth.EthernetType = layers.EthernetTypeQinQ
		}
		for i, id := range p.vlans {
			next := ethType
			if i+1 < len(p.vlans) {
				next = layers.EthernetTypeDot1Q
			}
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: id, Type: next})
		}
	}
	var network gopacket.NetworkLayer
	switch {
	case p.ip4 != nil:
		ls, network = append(ls, p.ip4), p.ip4
	case p.ip6 != nil:
		ls, network = append(ls, p.ip6), p.ip6
	case p.arp:
		ls = append(ls, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
			SourceHwAddress: srcMAC, SourceProtAddress: net.IP{10, 0, 0, 1},
			DstHwAddress: make([]byte, 6), DstProtAddress: net.IP{10, 0, 0, 254}})
	}
	switch {
	case p.tcp != nil:
		if err := p.tcp.SetNetworkLayerForChecksum(network); err != nil {
			log.Fatal(err)
		}
		ls = append(ls, p.tcp)
	case p.udp != nil:
		if err := p.udp.SetNetworkLayerForChecksum(network); err != nil {
			log.Fatal(err)
		}
		ls = append(ls, p.udp)
	case p.icmp:
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 7, Seq: 1})
	}
	ls = append(ls, gopacket.Payload(p.payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

func main() {
	out := flag.String("o", "examples/traffic.pcap", "output file")
	flag.Parse()

	withOptions := v4("10.0.0.3", "192.168.1.10", layers.IPProtocolTCP)
	withOptions.Options = []layers.IPv4Option{{OptionType: 7, OptionLength: 3, OptionData: []byte{4}}} // record route, padded to IHL 6

	packets := []packet{
		{ip4: v4("10.0.0.1", "192.168.1.10", layers.IPProtocolTCP), tcp: tcp(40000, 80, true)},
		{ip4: v4("10.0.0.2", "8.8.8.8", layers.IPProtocolUDP), udp: udp(5353, 53), payload: []byte("\x12\x34\x01\x00\x00\x01")},
		{ip4: v4("203.0.113.7", "192.168.1.10", layers.IPProtocolICMPv4), icmp: true, payload: []byte("ping")},
		{vlans: []uint16{100}, ip4: v4("10.0.1.5", "192.168.1.20", layers.IPProtocolTCP), tcp: tcp(41000, 443, false), payload: []byte("GET / HTTP/1.1\r\n")},
		{vlans: []uint16{200, 300}, ip4: v4("10.0.2.9", "192.168.1.30", layers.IPProtocolUDP), udp: udp(6000, 7000), payload: make([]byte, 32)},
		{ip6: v6("2001:db8::1", "2001:db8::2", layers.IPProtocolTCP), tcp: tcp(50000, 22, true)},
		{ip6: v6("2001:db8:bad::7", "2001:db8::2", layers.IPProtocolUDP), udp: udp(5000, 53), payload: []byte("v6 dns")},
		{ip4: withOptions, tcp: tcp(40001, 23, true)},
		{arp: true},
		{ip4: v4("198.51.100.9", "192.168.1.10", layers.IPProtocolTCP), tcp: tcp(1234, 80, true)},
		{ip4: v4("10.0.0.2", "8.8.4.4", layers.IPProtocolUDP), udp: udp(5354, 53), payload: []byte("\xab\xcd\x01\x00\x00\x01")},
		{vlans: []uint16{100}, ip6: v6("fe80::1", "ff02::1", layers.IPProtocolICMPv6), payload: make([]byte, 8)},
	}

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		log.Fatal(err)
	}
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(data []byte) {
		t = t.Add(time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			log.Fatal(err)
		}
	}
	for _, p := range packets {
		write(p.bytes())
	}
	write([]byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0}) // runt: shorter than an Ethernet header
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
