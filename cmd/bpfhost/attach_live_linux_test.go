package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/bpfhost/bpfhost/internal/netnstest"
)

// attachProc is `bpfhost attach xdp` run as a user runs it: the test binary
// as bpfhost (asMainEnv), a process of its own in a namespace (ip netns
// exec, which execs it, so signals reach it).
type attachProc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	code           int
}

// startAttach starts `[prefix...] bpfhost attach xdp ARGS...` in ns and
// waits until it says "attached" or exits.
func startAttach(t *testing.T, ns *netnstest.NS, prefix []string, args ...string) *attachProc {
	t.Helper()
	argv := append(append(append([]string{"netns", "exec", ns.Name}, prefix...), os.Args[0], "attach", "xdp"), args...)
	p := &attachProc{cmd: exec.Command("ip", argv...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), asMainEnv+"=1")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	p.stderr.waitFor("attached\n", p.done)
	return p
}

// wait waits for the process to exit (settle at most: only a hung one
// waits that long) and returns its exit status.
func (p *attachProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(settle):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("bpfhost attach did not exit within %v; stderr %s", settle, p.stderr.String())
		return 0
	}
}

// udpExchange sends n datagrams from n1 to n2:9000 and returns how many n2
// received (all of them, or settle passed).
func (tp *attachTopology) udpExchange(t *testing.T, net8 int, n int) int {
	t.Helper()
	var rx net.PacketConn
	tp.n2.Do(t, func() (err error) {
		rx, err = net.ListenPacket("udp4", fmt.Sprintf("10.%d.0.2:9000", net8))
		return err
	})
	defer rx.Close()
	tp.n1.Do(t, func() error {
		c, err := net.Dial("udp4", fmt.Sprintf("10.%d.0.2:9000", net8))
		if err != nil {
			return err
		}
		defer c.Close()
		for i := 0; i < n; i++ {
			if _, err := c.Write([]byte("hello")); err != nil {
				return err
			}
		}
		return nil
	})
	buf := make([]byte, 64)
	got := 0
	rx.SetReadDeadline(time.Now().Add(settle))
	for got < n {
		if _, _, err := rx.ReadFrom(buf); err != nil {
			break
		}
		got++
	}
	return got
}

// attachJSON is what the issue asks of `attach xdp --json`, and the error
// a link that stopped by itself adds.
type attachJSON struct {
	Program    *string
	Type       *string
	Engine     *string
	Interfaces []string
	Packets    *uint64
	Verdicts   map[string]uint64
	Maps       map[string]json.RawMessage
	Printk     []string
	Error      string
}

func decodeAttach(t *testing.T, stdout string) attachJSON {
	t.Helper()
	var res attachJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if res.Program == nil || res.Type == nil || res.Engine == nil || res.Packets == nil || res.Maps == nil || res.Printk == nil {
		t.Errorf("JSON %s: want program, type, engine, packets, maps and printk", stdout)
	}
	for _, v := range []string{"XDP_PASS", "XDP_DROP", "XDP_TX", "XDP_REDIRECT", "XDP_ABORTED"} {
		if _, ok := res.Verdicts[v]; !ok {
			t.Errorf("verdicts %v: no %s", res.Verdicts, v)
		}
	}
	return res
}

// TestAttachXDPBinarySignals runs the bpfhost process as a bridge, passes
// datagrams through it, and stops it with SIGINT, then SIGTERM: each exits
// 0 with the JSON document, and --pcap-out holds every frame that
// left, each on the interface it left on (b0, towards n2), with Ethernet
// link types, as a pcapng reader sees them.
func TestAttachXDPBinarySignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			tp := newAttachTopology(t, "r", 83)
			pcapPath := filepath.Join(t.TempDir(), "out.pcapng")
			p := startAttach(t, tp.mid, nil, "../../hooks/xdp/testdata/hook.o", "--program", "xdp_pass",
				"--dev", tp.a0, "--peer", tp.b0, "--workers", "2", "--pcap-out", pcapPath, "--json")
			if got := tp.udpExchange(t, 83, 5); got != 5 {
				t.Fatalf("n2 received %d of 5 datagrams through bpfhost; stderr %s", got, p.stderr.String())
			}
			p.cmd.Process.Signal(sig)
			if code := p.wait(t); code != 0 {
				t.Fatalf("exit %d after %v; stderr %s", code, sig, p.stderr.String())
			}
			res := decodeAttach(t, p.stdout.String())
			if *res.Program != "xdp_pass" || *res.Type != "xdp" || len(res.Interfaces) != 2 || res.Interfaces[1] != tp.b0 || res.Error != "" {
				t.Errorf("JSON %s", p.stdout.String())
			}
			// The 5 datagrams passed (and nothing else comes from n1 with
			// a static neighbour entry and IPv6 off; n2 sends nothing).
			if *res.Packets < 5 || res.Verdicts["XDP_PASS"] < 5 {
				t.Errorf("packets %d, verdicts %v: want the 5 datagrams passed", *res.Packets, res.Verdicts)
			}
			udp := checkPcap(t, pcapPath, []string{tp.a0, tp.b0}, func(name string, pkt gopacket.Packet) {
				if ip, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok && !ip.DstIP.Equal(net.IP{10, 83, 0, 2}) {
					t.Errorf("frame to %v recorded on %s, want only frames to n2", ip.DstIP, name)
				} else if ok && name != tp.b0 {
					t.Errorf("frame to n2 recorded on %s, want %s (it left towards n2)", name, tp.b0)
				}
			})
			if udp != 5 {
				t.Errorf("%d UDP frames in the pcapng, want the 5 that left", udp)
			}
		})
	}
}

// checkPcap reads a pcapng file with gopacket's reader: its interfaces
// must be names, in order, with Ethernet link types; fn sees each frame
// with the name of its interface. It returns the number of UDP frames.
func checkPcap(t *testing.T, path string, names []string, fn func(name string, pkt gopacket.Packet)) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	udp := 0
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		intf, err := r.Interface(ci.InterfaceIndex)
		if err != nil {
			t.Fatalf("frame on interface %d: %v", ci.InterfaceIndex, err)
		}
		pkt := gopacket.NewPacket(data, intf.LinkType, gopacket.Default)
		fn(intf.Name, pkt)
		if pkt.Layer(layers.LayerTypeUDP) != nil {
			udp++
		}
	}
	if r.NInterfaces() != len(names) {
		t.Errorf("%d pcapng interfaces, want %d", r.NInterfaces(), len(names))
	}
	for i, name := range names {
		if intf, err := r.Interface(i); err != nil || intf.Name != name || intf.LinkType != layers.LinkTypeEthernet {
			t.Errorf("pcapng interface %d: %+v, %v; want %s, Ethernet", i, intf, err, name)
		}
	}
	return udp
}

// TestAttachXDPBinaryInterfaceGone deletes the bridge's peer interface
// under a running bpfhost: it detaches, prints the counts and maps with the
// error and exits 1, instead of spinning on the socket error until killed.
func TestAttachXDPBinaryInterfaceGone(t *testing.T) {
	tp := newAttachTopology(t, "s", 84)
	p := startAttach(t, tp.mid, nil, examples+"firewall.o", "--dev", tp.a0, "--peer", tp.b0, "--workers", "2", "--json")
	if got := tp.udpExchange(t, 84, 3); got != 3 {
		t.Fatalf("n2 received %d of 3 datagrams through bpfhost; stderr %s", got, p.stderr.String())
	}
	tp.mid.IP(t, "link", "del", tp.b0)
	if code := p.wait(t); code != 1 {
		t.Errorf("exit %d, want 1; stderr %s", code, p.stderr.String())
	}
	if want := "interface " + tp.b0 + " (index"; !strings.Contains(p.stderr.String(), want) || !strings.Contains(p.stderr.String(), "went away") {
		t.Errorf("stderr %q: want it to say %s went away", p.stderr.String(), tp.b0)
	}
	res := decodeAttach(t, p.stdout.String())
	if !strings.Contains(res.Error, "went away") || res.Verdicts["XDP_PASS"] < 3 || len(res.Maps) == 0 {
		t.Errorf("JSON %s: want the error, the 3 datagrams passed and the maps", p.stdout.String())
	}
}

// TestAttachXDPBinaryNoCapabilities runs bpfhost without CAP_NET_RAW and
// CAP_NET_ADMIN (setpriv drops them from the bounding set, so root's exec
// does not get them): it fails with an error naming CAP_NET_RAW.
func TestAttachXDPBinaryNoCapabilities(t *testing.T) {
	netnstest.Require(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("skipping: setpriv (util-linux) is missing")
	}
	ns := netnstest.New(t)
	p := startAttach(t, ns, []string{"setpriv", "--inh-caps=-all", "--bounding-set=-net_raw,-net_admin"},
		examples+"firewall.o", "--dev", "lo", "--duration", "1s")
	code := p.wait(t)
	if strings.Contains(p.stderr.String(), "attached") {
		t.Skipf("skipping: attached without CAP_NET_RAW: setpriv could not drop it here (%s)", p.stderr.String())
	}
	if code == 0 || !strings.Contains(p.stderr.String(), "CAP_NET_RAW") {
		t.Errorf("exit %d, stderr %q: want an error naming CAP_NET_RAW", code, p.stderr.String())
	}
}

// TestAttachXDPBinaryMonitorBridge attaches a drop-all program in monitor
// mode to a port of a Linux bridge: the program sees the frames and says
// XDP_DROP, but monitor mode blocks nothing: the bridge still carries the
// datagrams, and bpfhost sends nothing.
func TestAttachXDPBinaryMonitorBridge(t *testing.T) {
	tp := newAttachTopology(t, "u", 85)
	br := netnstest.Uniq("ubr")
	tp.mid.IP(t, "link", "add", br, "type", "bridge")
	tp.mid.IP(t, "link", "set", tp.a0, "master", br)
	tp.mid.IP(t, "link", "set", tp.b0, "master", br)
	tp.mid.IP(t, "link", "set", br, "up")
	p := startAttach(t, tp.mid, nil, "../../hooks/xdp/testdata/hook.o", "--program", "xdp_drop", "--dev", tp.a0, "--workers", "1", "--json")
	// The bridge may still be learning: resend until a round comes through.
	got := 0
	for deadline := time.Now().Add(settle); got < 5 && time.Now().Before(deadline); {
		got = tp.udpExchange(t, 85, 5)
	}
	if got < 5 {
		t.Fatalf("n2 received %d of 5 datagrams through the Linux bridge while bpfhost monitored a port; stderr %s", got, p.stderr.String())
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d; stderr %s", code, p.stderr.String())
	}
	var res struct {
		Mode     string
		Verdicts map[string]uint64
		Sent     uint64
	}
	if err := json.Unmarshal([]byte(p.stdout.String()), &res); err != nil {
		t.Fatal(err)
	}
	if res.Mode != "monitor" || res.Verdicts["XDP_DROP"] < 5 || res.Sent != 0 {
		t.Errorf("mode %s, verdicts %v, sent %d: want monitor mode, the datagrams' frames seen as dropped, nothing sent", res.Mode, res.Verdicts, res.Sent)
	}
}

// TestAttachXDPUsageErrors: what a user can get wrong on the command line
// fails before anything is attached, with exit status 2 and a message
// that says what is wrong: an object without an XDP program (it named its
// other programs as if --program were the problem), negative --workers or
// --duration (taken as the defaults before).
func TestAttachXDPUsageErrors(t *testing.T) {
	ns := netnstest.New(t)
	dev, peer := netnstest.Uniq("ud"), netnstest.Uniq("up")
	ns.IP(t, "link", "add", dev, "type", "veth", "peer", "name", peer)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"../../hooks/sockaddr/testdata/sockaddr.o", "--dev", dev}, "no xdp program to attach"},
		{[]string{examples + "firewall.o", "--dev", dev, "--workers", "-2"}, "--workers -2"},
		{[]string{examples + "firewall.o", "--dev", dev, "--duration", "-1s"}, "--duration -1s"},
	} {
		p := startAttach(t, ns, nil, c.args...)
		code := p.wait(t)
		if code != 2 || !strings.Contains(p.stderr.String(), c.want) || strings.Contains(p.stderr.String(), "attached") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and an error with %q", c.args, code, p.stderr.String(), c.want)
		}
	}
}

// TestAttachXDPBinaryNoNetAdmin runs bpfhost with CAP_NET_RAW but without
// CAP_NET_ADMIN on an interface with GRO on, which it must turn off: the
// error names CAP_NET_ADMIN, and GRO stays on.
func TestAttachXDPBinaryNoNetAdmin(t *testing.T) {
	netnstest.Require(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("skipping: setpriv (util-linux) is missing")
	}
	ns, n1 := netnstest.New(t), netnstest.New(t)
	dev, e1 := netnstest.Uniq("ug"), netnstest.Uniq("uh")
	netnstest.Veth(t, ns, dev, n1, e1)
	gro := func(set int) uint32 { return ns.GRO(t, dev, set) }
	if gro(1) != 1 {
		t.Skip("skipping: veth GRO cannot be turned on on this kernel")
	}
	p := startAttach(t, ns, []string{"setpriv", "--inh-caps=-all", "--bounding-set=-net_admin"},
		examples+"firewall.o", "--dev", dev, "--duration", "1s")
	code := p.wait(t)
	if code == 0 || !strings.Contains(p.stderr.String(), "CAP_NET_ADMIN") || strings.Contains(p.stderr.String(), "attached") {
		t.Errorf("exit %d, stderr %q: want an error naming CAP_NET_ADMIN", code, p.stderr.String())
	}
	if gro(-1) != 1 {
		t.Errorf("GRO on %s is off after the refused attach", dev)
	}
}
