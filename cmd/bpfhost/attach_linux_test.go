package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	tp := newAttachTopology(t, "c", 79)
	a0, b0 := tp.a0, tp.b0
	tp.n1.IP(t, "addr", "add", "203.0.113.5/24", "dev", tp.e1)
	tp.n2.IP(t, "route", "add", "203.0.113.0/24", "dev", tp.e2)
	pcapPath := filepath.Join(t.TempDir(), "out.pcapng")

	wait := tp.attach(t, examples+"firewall.o", "--map-init", examples+"firewall-blocklist.json", "--workers", "2",
		"--pcap-out", pcapPath, "--checked")
	for _, src := range []string{"10.79.0.1", "203.0.113.5"} {
		tp.n1.Do(t, func() error {
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
	stdout, stderr, err := wait(time.Second)
	if err != nil {
		t.Fatalf("attach: %v; stderr %s", err, stderr)
	}
	if !strings.HasPrefix(stderr, "attached\n") {
		t.Errorf("stderr %q: want \"attached\" first", stderr)
	}
	var res struct {
		Program    string
		Mode       string
		Interfaces []string
		Packets    uint64
		Verdicts   map[string]uint64
		Maps       map[string][]mapEntry
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, stdout)
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

// attachTopology is n1 -- (a0 | mid | b0) -- n2: n1 at 10.<net>.0.1 and n2
// at 10.<net>.0.2, n1 knowing n2's MAC; nothing connects a0 and b0 but
// bpfhost.
type attachTopology struct {
	mid, n1, n2    *netnstest.NS
	a0, b0, e1, e2 string
}

func newAttachTopology(t *testing.T, prefix string, net int) *attachTopology {
	t.Helper()
	netnstest.Require(t)
	tp := &attachTopology{mid: netnstest.New(t), n1: netnstest.New(t), n2: netnstest.New(t),
		a0: netnstest.Uniq(prefix + "a"), b0: netnstest.Uniq(prefix + "b"), e1: netnstest.Uniq(prefix + "e"), e2: netnstest.Uniq(prefix + "f")}
	netnstest.Veth(t, tp.mid, tp.a0, tp.n1, tp.e1)
	netnstest.Veth(t, tp.mid, tp.b0, tp.n2, tp.e2)
	tp.n1.IP(t, "addr", "add", fmt.Sprintf("10.%d.0.1/24", net), "dev", tp.e1)
	tp.n2.IP(t, "addr", "add", fmt.Sprintf("10.%d.0.2/24", net), "dev", tp.e2)
	tp.n1.IP(t, "neigh", "replace", fmt.Sprintf("10.%d.0.2", net), "lladdr", tp.n2.MAC(t, tp.e2).String(), "dev", tp.e1, "nud", "permanent")
	return tp
}

// attach runs `attach xdp OBJECT --dev a0 --peer b0 --json ARGS...` in
// mid in the background and returns once it has attached (it says so on
// stderr). detach gives the workers linger to handle the frames the test
// sent (on a machine that runs them at once, microseconds), detaches
// (the command's context ends, as at SIGINT) and returns the command's
// stdout, stderr and error. (A fixed --duration with a fixed time to
// attach failed where loading took longer than that time: the test's
// frames came before the program.)
func (tp *attachTopology) attach(t *testing.T, object string, args ...string) (detach func(linger time.Duration) (string, string, error)) {
	t.Helper()
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan struct{})
	var err error
	go tp.mid.Do(t, func() error {
		defer close(done)
		root := newRoot()
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		root.SetArgs(append([]string{"attach", "xdp", object, "--dev", tp.a0, "--peer", tp.b0, "--json"}, args...))
		err = root.ExecuteContext(ctx)
		return nil
	})
	if !stderr.waitFor("attached\n", done) {
		cancel()
		<-done
		t.Fatalf("attach did not attach: %v; stderr %s", err, stderr.String())
	}
	return func(linger time.Duration) (string, string, error) {
		time.Sleep(linger)
		cancel()
		select {
		case <-done:
		case <-time.After(settle):
			t.Fatal("attach did not detach")
		}
		return stdout.String(), stderr.String(), err
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

// TestAttachXDPOffloads: attach turns GRO off on the interface, says so on
// stderr before "attached", and turns it on again when it detaches.
func TestAttachXDPOffloads(t *testing.T) {
	netnstest.Require(t)
	mid, n1 := netnstest.New(t), netnstest.New(t)
	a0, e1 := netnstest.Uniq("co"), netnstest.Uniq("cp")
	netnstest.Veth(t, mid, a0, n1, e1)
	gro := func(set int) uint32 { return mid.GRO(t, a0, set) }
	if gro(1) != 1 {
		t.Skip("veth GRO cannot be turned on on this kernel")
	}
	var stdout, stderr bytes.Buffer
	mid.Do(t, func() error {
		root := newRoot()
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		root.SetArgs([]string{"attach", "xdp", examples + "firewall.o", "--dev", a0, "--duration", "200ms", "--workers", "1"})
		return root.Execute()
	})
	if want := a0 + ": generic-receive-offload off until detach (frames must fit the MTU)\nattached\n"; !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr %q: want it to start with %q", stderr.String(), want)
	}
	if v := gro(-1); v != 1 {
		t.Errorf("GRO on %s after detach = %d, want 1 (restored)", a0, v)
	}
}
