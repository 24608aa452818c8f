package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/internal/netnstest"
)

// TestLinkErrors: bad link requests get errors with the right codes.
func TestLinkErrors(t *testing.T) {
	d := newTestDaemon(t, "")
	defer d.Close()
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	p := api.Ref{Pinned: "/p"}
	for _, c := range []struct {
		name string
		err  error
		code string
	}{
		{"no device", func() error { _, err := d.AttachXDP(api.NetAttachRequest{Prog: p}); return err }(), api.CodeInvalid},
		{"peer is dev", func() error {
			_, err := d.AttachXDP(api.NetAttachRequest{Prog: p, Dev: "lo", Peer: "lo"})
			return err
		}(), api.CodeInvalid},
		{"missing device", func() error {
			_, err := d.AttachXDP(api.NetAttachRequest{Prog: p, Dev: "nosuchdev0"})
			return err
		}(), api.CodeNotFound},
		{"missing program", func() error {
			_, err := d.AttachXDP(api.NetAttachRequest{Prog: api.Ref{ID: 999}, Dev: "lo"})
			return err
		}(), api.CodeNotFound},
		{"detach from a missing device", d.DetachXDP("nosuchdev0"), api.CodeNotFound},
		{"link by name", func() error { _, err := d.Link(api.Ref{Name: "x"}); return err }(), api.CodeInvalid},
		{"program pin as link", func() error { _, err := d.Link(p); return err }(), api.CodeInvalid},
		{"missing link", d.DetachLink(api.Ref{ID: 999}), api.CodeNotFound},
		{"pin missing link", d.PinLink(api.Ref{ID: 999}, "/l"), api.CodeNotFound},
		{"bad pin path", d.PinLink(api.Ref{ID: 1}, "rel"), api.CodeInvalid},
	} {
		if CodeOf(c.err) != c.code {
			t.Errorf("%s: %v (code %s), want %s", c.name, c.err, CodeOf(c.err), c.code)
		}
	}
	// As Linux: detaching from a device without a program succeeds.
	if err := d.DetachXDP("lo"); err != nil {
		t.Errorf("detach from a device without a program: %v", err)
	}
}

// TestLinkLifetime: a link holds its program; a link is attached again
// when the daemon starts, or dropped if its device is gone; detaching the
// last holder unloads the object and removes its state.
func TestLinkLifetime(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t)
	a, b := netnstest.Uniq("la"), netnstest.Uniq("lb")
	netnstest.Veth(t, ns, a, ns, b)
	state := t.TempDir()
	var d *Daemon
	ns.Do(t, func() error { d = newTestDaemon(t, state); return nil })
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	var l api.LinkInfo
	ns.Do(t, func() error {
		var err error
		l, err = d.AttachXDP(api.NetAttachRequest{Prog: api.Ref{Pinned: "/p"}, Dev: a})
		return err
	})
	if _, err := d.AttachXDP(api.NetAttachRequest{Prog: api.Ref{Pinned: "/p"}, Dev: b, Peer: a}); CodeOf(err) != api.CodeBusy {
		t.Errorf("attach to a busy device: %v", err)
	}
	if err := d.PinLink(api.Ref{ID: l.ID}, "/l"); err != nil {
		t.Fatal(err)
	}
	if err := d.PinLink(api.Ref{ID: l.ID}, "/p"); CodeOf(err) != api.CodeExists {
		t.Errorf("pin over a program's pin: %v", err)
	}
	if err := d.Unpin("/p"); err != nil {
		t.Fatal(err)
	}
	if ps := d.Programs(); len(ps) != 1 || ps[0].ID != l.ProgID {
		t.Fatalf("programs after unpin %+v: the link holds %d", ps, l.ProgID)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: the link is attached again.
	ns.Do(t, func() error { d = newTestDaemon(t, state); return nil })
	links := d.Links()
	if len(links) != 1 || links[0].Devname != a || len(links[0].Pinned) != 1 || links[0].Pinned[0] != "/l" {
		t.Fatalf("restored links %+v", links)
	}
	if err := d.Unpin("/l"); err != nil {
		t.Fatal(err)
	}
	if len(d.Links()) != 1 {
		t.Fatal("unpinning a link detached it")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// A device gone by the restart drops the link, and with it the
	// object nothing else holds.
	ns.IP(t, "link", "del", a)
	ns.Do(t, func() error { d = newTestDaemon(t, state); return nil })
	if len(d.Links()) != 0 || len(d.Programs()) != 0 {
		t.Fatalf("after the device went: links %+v programs %+v", d.Links(), d.Programs())
	}
	d.Close()
	if ents, _ := os.ReadDir(filepath.Join(state, "units")); len(ents) != 0 {
		t.Fatalf("state left behind: %v", ents)
	}
}

// TestLinkDetachUnloads: detaching a program's only link unloads it.
func TestLinkDetachUnloads(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t)
	a, b := netnstest.Uniq("la"), netnstest.Uniq("lb")
	netnstest.Veth(t, ns, a, ns, b)
	state := t.TempDir()
	d := newTestDaemon(t, state)
	defer d.Close()
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	ns.Do(t, func() error {
		_, err := d.AttachXDP(api.NetAttachRequest{Prog: api.Ref{Pinned: "/p"}, Dev: a, Peer: b})
		return err
	})
	if err := d.Unpin("/p"); err != nil {
		t.Fatal(err)
	}
	if err := d.DetachXDP(b); err != nil {
		t.Fatal(err)
	}
	if len(d.Links()) != 0 || len(d.Programs()) != 0 || len(d.Maps()) != 0 {
		t.Fatalf("after detach: links %+v programs %+v maps %+v", d.Links(), d.Programs(), d.Maps())
	}
	if ents, _ := os.ReadDir(filepath.Join(state, "units")); len(ents) != 0 {
		t.Fatalf("state left behind: %v", ents)
	}
}

// TestLinksConcurrent attaches, lists, pins, unpins and detaches from many
// goroutines at once (run it with -race).
func TestLinksConcurrent(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t)
	a, b := netnstest.Uniq("la"), netnstest.Uniq("lb")
	netnstest.Veth(t, ns, a, ns, b)
	d := newTestDaemon(t, t.TempDir())
	defer d.Close()
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dev := []string{a, b}[g%2]
			for i := 0; i < 10; i++ {
				var l api.LinkInfo
				var aerr error
				ns.Do(t, func() error {
					l, aerr = d.AttachXDP(api.NetAttachRequest{Prog: api.Ref{Pinned: "/p"}, Dev: dev})
					return nil
				})
				d.Links()
				if aerr != nil {
					if CodeOf(aerr) != api.CodeBusy {
						t.Errorf("attach: %v", aerr)
					}
					continue
				}
				pin := fmt.Sprintf("/l%d", g)
				if err := d.PinLink(api.Ref{ID: l.ID}, pin); err != nil {
					t.Errorf("pin: %v", err)
				}
				if _, err := d.Link(api.Ref{Pinned: pin}); err != nil {
					t.Errorf("link: %v", err)
				}
				if err := d.Unpin(pin); err != nil {
					t.Errorf("unpin: %v", err)
				}
				if err := d.DetachLink(api.Ref{ID: l.ID}); err != nil {
					t.Errorf("detach: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if len(d.Links()) != 0 || len(d.Programs()) != 1 {
		t.Errorf("after: links %+v programs %+v", d.Links(), d.Programs())
	}
}

// TestRestoreLinksOfSeveralUnits: units held only by their links come back
// together, also when another unit's link is dropped at the restart (its
// device gone): what nothing holds is collected only after every link is
// attached again.
func TestRestoreLinksOfSeveralUnits(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t)
	a1, a2, b1, b2 := netnstest.Uniq("ra"), netnstest.Uniq("rA"), netnstest.Uniq("rb"), netnstest.Uniq("rB")
	netnstest.Veth(t, ns, a1, ns, a2)
	netnstest.Veth(t, ns, b1, ns, b2)
	state := t.TempDir()
	var d *Daemon
	ns.Do(t, func() error { d = newTestDaemon(t, state); return nil })
	for _, tc := range []struct{ pin, dev string }{{"/p1", a1}, {"/p2", b1}} {
		if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: tc.pin}); err != nil {
			t.Fatal(err)
		}
		ns.Do(t, func() error {
			_, err := d.AttachXDP(api.NetAttachRequest{Prog: api.Ref{Pinned: tc.pin}, Dev: tc.dev})
			return err
		})
		if err := d.Unpin(tc.pin); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "link", "del", a1)
	ns.Do(t, func() error { d = newTestDaemon(t, state); return nil })
	defer d.Close()
	links := d.Links()
	if len(links) != 1 || links[0].Devname != b1 || len(d.Programs()) != 1 {
		t.Fatalf("after %s went: links %+v programs %+v", a1, links, d.Programs())
	}
}

// TestLinkDeviceGone: a link whose device is deleted while the daemon runs
// is detached, as Linux drops the XDP attachment of a deleted device: it
// leaves the listing, its pin and the unit's state (a restart does not
// bring it back), while the program pinned apart stays loaded.
func TestLinkDeviceGone(t *testing.T) {
	netnstest.Require(t)
	ns := netnstest.New(t)
	a, b := netnstest.Uniq("la"), netnstest.Uniq("lb")
	netnstest.Veth(t, ns, a, ns, b)
	state := t.TempDir()
	var d *Daemon
	ns.Do(t, func() error { d = newTestDaemon(t, state); return nil })
	defer func() { d.Close() }()
	if _, err := d.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/p"}); err != nil {
		t.Fatal(err)
	}
	var l api.LinkInfo
	ns.Do(t, func() error {
		var err error
		l, err = d.AttachXDP(api.NetAttachRequest{Prog: api.Ref{Pinned: "/p"}, Dev: a, Peer: b})
		return err
	})
	if err := d.PinLink(api.Ref{ID: l.ID}, "/l"); err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "link", "del", a) // takes b with it
	// The link notices within its workers' next wake-up; 30 s bounds a
	// slow, busy machine.
	deadline := time.Now().Add(30 * time.Second)
	for len(d.Links()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("links 30 s after the device went: %+v", d.Links())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.Unpin("/l"); CodeOf(err) != api.CodeNotFound {
		t.Errorf("unpin the gone link's pin: %v, want not found", err)
	}
	if ps := d.Programs(); len(ps) != 1 || ps[0].ID != l.ProgID {
		t.Errorf("programs %+v, want the pinned program %d", ps, l.ProgID)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	ns.Do(t, func() error { d = newTestDaemon(t, state); return nil })
	if links := d.Links(); len(links) != 0 {
		t.Fatalf("links after a restart: %+v", links)
	}
	if len(d.Programs()) != 1 {
		t.Fatalf("programs after a restart: %+v", d.Programs())
	}
}
