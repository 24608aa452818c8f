package daemon

import (
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestNetDevErrors: "net show dev" and "net detach" in each XDP mode, for a
// device that exists (lo, no program: nothing shown, detaching succeeds in
// every mode) and one that does not (bpftool's "invalid devname"), and an
// unknown mode.
func TestNetDevErrors(t *testing.T) {
	d := newTestDaemon(t, "")
	defer d.Close()
	if links, err := d.NetShow("lo"); err != nil || len(links) != 0 {
		t.Errorf("net show dev lo: %v, %v; want no links", links, err)
	}
	if _, err := d.NetShow("nosuchdev0"); CodeOf(err) != api.CodeNotFound || err.Error() != "invalid devname nosuchdev0" {
		t.Errorf("net show of a missing device: %v (code %s), want bpftool's invalid devname", err, CodeOf(err))
	}
	for _, mode := range []string{"", api.XDPModeGeneric, api.XDPModeDriver, api.XDPModeOffload} {
		if err := d.NetDetach(api.NetDetachRequest{Dev: "lo", Mode: mode}); err != nil {
			t.Errorf("detach %q from lo: %v", mode, err)
		}
		if err := d.NetDetach(api.NetDetachRequest{Dev: "nosuchdev0", Mode: mode}); CodeOf(err) != api.CodeNotFound {
			t.Errorf("detach %q from a missing device: %v (code %s)", mode, err, CodeOf(err))
		}
	}
	if err := d.NetDetach(api.NetDetachRequest{Dev: "lo", Mode: "native"}); CodeOf(err) != api.CodeInvalid {
		t.Errorf("detach in an unknown mode: %v (code %s)", err, CodeOf(err))
	}
}
