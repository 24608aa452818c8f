package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/internal/netnstest"
)

// linksOf parses "link show -j".
func linksOf(t *testing.T, out string) []api.LinkInfo {
	t.Helper()
	var links []api.LinkInfo
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		t.Fatalf("link show %q: %v", out, err)
	}
	return links
}

// TestDaemonNetAttachXDP attaches an XDP program in a daemon that runs in a
// network namespace, sees it run on frames, pins the link, kills the
// daemon with SIGKILL, and sees the link attached again after the restart;
// then detaches it, which unloads the program nothing else holds.
func TestDaemonNetAttachXDP(t *testing.T) {
	netnstest.Require(t)
	d := newTestDaemonProc(t)
	mid, n1 := netnstest.New(t), netnstest.New(t)
	a0, e1 := netnstest.Uniq("da"), netnstest.Uniq("de")
	netnstest.Veth(t, mid, a0, n1, e1)
	n1.IP(t, "addr", "add", "10.81.0.1/24", "dev", e1)
	n1.IP(t, "neigh", "replace", "10.81.0.2", "lladdr", "02:00:00:00:00:02", "dev", e1, "nud", "permanent")
	d.prefix = []string{"ip", "netns", "exec", mid.Name}
	d.start()

	send := func() {
		n1.Do(t, func() error {
			c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IP{10, 81, 0, 2}, Port: 9})
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
	// waitPackets waits until the only link has counted n frames.
	waitPackets := func(n uint64) api.LinkInfo {
		t.Helper()
		deadline := time.Now().Add(settle)
		for {
			links := linksOf(t, d.must("link", "show", "-j", "-f"))
			if len(links) != 1 {
				t.Fatalf("links %+v, want 1", links)
			}
			if links[0].Packets >= n || time.Now().After(deadline) {
				if links[0].Packets < n {
					t.Fatalf("link %+v: %d packets, want %d", links[0], links[0].Packets, n)
				}
				return links[0]
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	d.must("prog", "load", examples+"firewall.o", "/x/fw", "type", "xdp")
	if out := d.must("link", "show", "-j"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("links before attach: %s", out)
	}
	d.must("net", "attach", "xdp", "pinned", "/x/fw", "dev", a0)
	if _, errOut, code := d.cli(nil, "net", "attach", "xdp", "pinned", "/x/fw", "dev", a0); code == 0 || !strings.Contains(errOut, "overwrite") {
		t.Errorf("second attach to %s: exit %d, %s", a0, code, errOut)
	}
	if _, errOut, code := d.cli(nil, "net", "attach", "xdp", "pinned", "/x/fw", "dev", "nosuchdev0"); code == 0 || !strings.Contains(errOut, "nosuchdev0") {
		t.Errorf("attach to a missing device: exit %d, %s", code, errOut)
	}
	send()
	l := waitPackets(5)
	if l.Type != "xdp" || l.Devname != a0 || l.Ifindex != mid.Ifindex(t, a0) || l.Verdicts["XDP_PASS"] < 5 {
		t.Errorf("link %+v", l)
	}
	var progs []api.ProgInfo
	if err := json.Unmarshal([]byte(d.must("prog", "show", "-j")), &progs); err != nil || len(progs) != 1 || progs[0].ID != l.ProgID {
		t.Fatalf("programs %+v (%v), want the link's %d", progs, err, l.ProgID)
	}
	var shown []map[string][]netXDP
	if err := json.Unmarshal([]byte(d.must("net", "show", "-j")), &shown); err != nil || len(shown) != 1 || len(shown[0]["xdp"]) != 1 || shown[0]["xdp"][0].Devname != a0 || shown[0]["xdp"][0].ID != l.ProgID {
		t.Errorf("net show %+v (%v)", shown, err)
	}
	d.must("link", "pin", "id", jsonNum(l.ID), "/x/link")
	// The link holds the program: unpinning the program keeps it.
	d.must("unpin", "/x/fw")

	d.kill()
	d.start()
	var got api.LinkInfo
	if err := json.Unmarshal([]byte(d.must("link", "show", "pinned", "/x/link", "-j", "-f")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Devname != a0 || len(got.Pinned) != 1 || got.Pinned[0] != "/x/link" || got.Packets != 0 {
		t.Errorf("restored link %+v", got)
	}
	send()
	waitPackets(5)

	d.must("net", "detach", "xdp", "dev", a0)
	if out := d.must("link", "show", "-j"); strings.TrimSpace(out) != "[]" {
		t.Errorf("links after detach: %s", out)
	}
	if out := d.must("prog", "show", "-j"); strings.TrimSpace(out) != "[]" {
		t.Errorf("programs after detach (nothing holds them): %s", out)
	}
	// As Linux: detaching from a device without a program succeeds.
	if _, errOut, code := d.cli(nil, "net", "detach", "xdp", "dev", a0); code != 0 {
		t.Errorf("second detach: exit %d: %s", code, errOut)
	}
	d.stop()
	d.start()
	if out := d.must("link", "show", "-j"); strings.TrimSpace(out) != "[]" {
		t.Errorf("links after detach and restart: %s", out)
	}
}

func jsonNum(n uint32) string {
	b, _ := json.Marshal(n)
	return string(b)
}
