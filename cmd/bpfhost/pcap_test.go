package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// writeLinkPcap writes pkts as a capture of the given link type.
func writeLinkPcap(t *testing.T, lt layers.LinkType, pkts ...[]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, lt); err != nil {
		t.Fatal(err)
	}
	for _, d := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, 0), CaptureLength: len(d), Length: len(d)}
		if err := w.WritePacket(ci, d); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// TestPcapLinkTypes checks that raw-IP and Linux cooked captures run as the
// Ethernet frames they stand for: the firewall drops the blocked source
// 203.0.113.7 (and passes 10.0.0.1) whatever the capture's link type, and a
// link type bpfhost does not read is refused by name.
func TestPcapLinkTypes(t *testing.T) {
	blocked, allowed := udpFrame([4]byte{203, 0, 113, 7}), udpFrame([4]byte{10, 0, 0, 1})
	ip := func(frame []byte) []byte { return frame[14:] }
	sll := func(frame []byte) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], []byte{2, 0, 0, 0, 0, 9})
		binary.BigEndian.PutUint16(h[14:], 0x0800)
		return append(h, frame[14:]...)
	}
	sll2 := func(frame []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], 0x0800)
		binary.BigEndian.PutUint32(h[4:], 2)
		binary.BigEndian.PutUint16(h[8:], 1)
		h[11] = 6
		copy(h[12:], []byte{2, 0, 0, 0, 0, 9})
		return append(h, frame[14:]...)
	}
	for _, tt := range []struct {
		name string
		lt   layers.LinkType
		wrap func([]byte) []byte
	}{
		{"ethernet", layers.LinkTypeEthernet, func(f []byte) []byte { return f }},
		{"raw", layers.LinkTypeRaw, ip},
		{"ipv4", layers.LinkTypeIPv4, ip},
		{"linux cooked", layers.LinkTypeLinuxSLL, sll},
		{"linux cooked v2", layers.LinkType(276), sll2},
	} {
		pcap := writeLinkPcap(t, tt.lt, tt.wrap(blocked), tt.wrap(allowed))
		out, code := cli(t, "run", examples+"firewall.o", "--pcap", pcap, "--map-init", examples+"firewall-blocklist.json")
		if code != 0 || !strings.Contains(out, "1    1       XDP_DROP") || !strings.Contains(out, "2    2       XDP_PASS") {
			t.Errorf("%s: exit %d:\n%s", tt.name, code, out)
		}
	}
	pcap := writeLinkPcap(t, layers.LinkTypeIEEE802_11, allowed)
	if out, code := cli(t, "run", examples+"firewall.o", "--pcap", pcap); code != 2 || !strings.Contains(out, "link type 105") {
		t.Errorf("802.11: exit %d:\n%s", code, out)
	}
	empty := writeLinkPcap(t, layers.LinkTypeEthernet)
	if out, code := cli(t, "run", examples+"firewall.o", "--pcap", empty); code != 2 || !strings.Contains(out, "no packets") {
		t.Errorf("an empty capture: exit %d:\n%s", code, out)
	}
}

// TestPcapngLinkType checks that a pcapng capture's interface link type is
// honoured too.
func TestPcapngLinkType(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in.pcapng")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgo.NewNgWriter(f, layers.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	d := udpFrame([4]byte{203, 0, 113, 7})[14:]
	if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(0, 0), CaptureLength: len(d), Length: len(d)}, d); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, code := cli(t, "run", examples+"firewall.o", "--pcap", p, "--map-init", examples+"firewall-blocklist.json")
	if code != 0 || !strings.Contains(out, "XDP_DROP") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
