package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/bpfhost/bpfhost/internal/netnstest"
)

// TestAttachXDPFirewall runs `attach xdp` in a middle namespace between two
// others, with the firewall and its blocklist, sends datagrams from an
// allowed and a blocked source, and checks the JSON report and the pcapng of
// the frames that left.
func TestAttachXDPFirewall(t *testing.T) {
	netnstest.Require(t)
	mid, n1, n2 := netnstest.New(t), netnstest.New(t), netnstest.New(t)
	a0, b0, e1, e2 := netnstest.Uniq("ca"), netnstest.Uniq("cb"), netnstest.Uniq("ce"), netnstest.Uniq("cf")
	netnstest.Veth(t, mid, a0, n1, e1)
	netnstest.Veth(t, mid, b0, n2, e2)
	n1.IP(t, "addr", "add", "10.79.0.1/24", "dev", e1)
	n1.IP(t, "addr", "add", "203.0.113.5/24", "dev", e1)
	n2.IP(t, "addr", "add", "10.79.0.2/24", "dev", e2)
	n2.IP(t, "route", "add", "203.0.113.0/24", "dev", e2)
	n1.IP(t, "neigh", "replace", "10.79.0.2", "lladdr", n2.MAC(t, e2).String(), "dev", e1, "nud", "permanent")
	pcapPath := filepath.Join(t.TempDir(), "out.pcapng")

	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go mid.Do(t, func() error {
		root := newRoot()
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		root.SetArgs([]string{"attach", "xdp", examples + "firewall.o", "--dev", a0, "--peer", b0,
			"--map-init", examples + "firewall-blocklist.json", "--duration", "1500ms", "--workers", "2",
			"--pcap-out", pcapPath, "--checked", "--json"})
		done <- root.Execute()
		return nil
	})
	time.Sleep(500 * time.Millisecond)
	for _, src := range []string{"10.79.0.1", "203.0.113.5"} {
		n1.Do(t, func() error {
			c, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP(src)}, &net.UDPAddr{IP: net.IP{10, 79, 0, 2}, Port: 9})
			if err != nil {
				return err
			}
			defer c.Close()
			for i := 0; i < 5; i++ {
				if _, err := c.Write([]byte("hello")); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := <-done; err != nil {
		t.Fatalf("attach: %v; stderr %s", err, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "attached\n") {
		t.Errorf("stderr %q: want \"attached\" first", stderr.String())
	}
	var res struct {
		Program    string
		Mode       string
		Interfaces []string
		Packets    uint64
		Verdicts   map[string]uint64
		Maps       map[string][]mapEntry
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, stdout.String())
	}
	if res.Program != "xdp_firewall" || res.Mode != "bridge" || len(res.Interfaces) != 2 || res.Interfaces[0] != a0 {
		t.Errorf("header %+v", res)
	}
	// 5 datagrams from the blocked source drop; the allowed 5 (and the ARP
	// exchange for the blocked source's replies, if any) pass.
	if res.Verdicts["XDP_DROP"] != 5 || res.Verdicts["XDP_PASS"] < 5 || len(res.Verdicts) != 5 {
		t.Errorf("verdicts %v", res.Verdicts)
	}
	if d := res.Maps["drops"]; len(d) != 1 || d[0].Key != "01000000" || d[0].Value != "0500000000000000" {
		t.Errorf("drops map %+v, want rule 1: 5", d)
	}

	f, err := os.Open(pcapPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	frames := 0
	for {
		_, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		intf, err := r.Interface(ci.InterfaceIndex)
		if err != nil || (intf.Name != a0 && intf.Name != b0) {
			t.Errorf("frame on interface %d (%+v, %v)", ci.InterfaceIndex, intf, err)
		}
		frames++
	}
	if frames != int(res.Verdicts["XDP_PASS"]) {
		t.Errorf("%d frames in the pcapng, want the %d passed", frames, res.Verdicts["XDP_PASS"])
	}
}

func TestAttachXDPErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"attach", "xdp", examples + "firewall.o"}, `"dev" not set`},
		{[]string{"attach", "xdp", examples + "firewall.o", "--dev", "lo", "--program", "nope"}, `no program "nope"`},
		{[]string{"attach", "xdp", examples + "firewall.o", "--dev", "bpfhost-none0"}, `interface "bpfhost-none0"`},
	} {
		out, code := cli(t, c.args...)
		if code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, %q; want an error with %q", c.args, code, out, c.want)
		}
	}
}
