package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestDaemonNetModesAgreesWithBpftool: bpftool's XDP modes on one device,
// with bpftool against the kernel (a veth pair, whose driver has native
// XDP) and in the daemon (whose links are generic XDP) alike: "net show
// dev" and "net detach" of a device that does not exist fail with
// bpftool's message; detaching from the driver or offload mode while a
// generic program is attached succeeds and leaves it there; a second
// generic program needs overwrite; a driver-mode program cannot join a
// generic one (the kernel: "Native and generic XDP can't be active at the
// same time"; bpfhost has no driver mode), overwrite or not; an unknown
// mode fails; "net show" lists the program as bpftool does, in bpftool's
// key order.
func TestDaemonNetModesAgreesWithBpftool(t *testing.T) {
	s, a, _, first, second := newNetSideBySide(t, "m")
	ids := regexp.MustCompile(`id [0-9]+`)
	jsonIDs := regexp.MustCompile(`"id":[0-9]+`)
	// same runs args on both sides, which must both succeed or both
	// fail, and compares their output, program IDs aside.
	same := func(args ...string) bool {
		t.Helper()
		kout, hout, ok := s.both(args...)
		k := jsonIDs.ReplaceAllString(ids.ReplaceAllString(kout, "id N"), `"id":N`)
		h := jsonIDs.ReplaceAllString(ids.ReplaceAllString(hout, "id N"), `"id":N`)
		if k != h {
			t.Errorf("%s:\n bpftool %q\n bpfhost %q", strings.Join(args, " "), kout, hout)
		}
		return ok
	}
	const nosuch = "nosuchdev0"
	for _, args := range [][]string{
		{"net", "show", "dev", nosuch},
		{"-j", "net", "show", "dev", nosuch},
		{"net", "detach", "xdpdrv", "dev", nosuch},
		{"-j", "net", "detach", "xdpgeneric", "dev", nosuch},
		{"-j", "net", "attach", "xdpdrv", "pinned", first, "dev", nosuch},
	} {
		if same(args...) {
			t.Errorf("%s: succeeded, want invalid devname", strings.Join(args, " "))
		}
	}
	// shown is "net show dev a" on both sides, which must agree.
	shown := func() {
		t.Helper()
		same("net", "show", "dev", a)
		same("-j", "net", "show", "dev", a)
	}
	shown()
	if !same("net", "attach", "xdpgeneric", "pinned", first, "dev", a) {
		t.Fatal("attach failed")
	}
	shown()
	for _, step := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"net", "detach", "xdpdrv", "dev", a}, true}, // nothing in driver mode
		{[]string{"-j", "net", "detach", "xdpoffload", "dev", a}, true},
		{[]string{"net", "attach", "xdpgeneric", "pinned", second, "dev", a}, false},
		{[]string{"net", "attach", "xdpdrv", "pinned", second, "dev", a}, false},
		{[]string{"net", "attach", "xdpdrv", "pinned", second, "dev", a, "overwrite"}, false},
		{[]string{"net", "detach", "xdpfoo", "dev", a}, false},
		{[]string{"net", "attach", "xdpgeneric", "pinned", second, "dev", a, "overwrite"}, true},
	} {
		if _, _, ok := s.both(step.args...); ok != step.ok {
			t.Errorf("%s: succeeded %v, want %v", strings.Join(step.args, " "), ok, step.ok)
		}
		if step.args[1] == "attach" && step.args[2] == "xdpdrv" {
			if _, herr, _ := s.d.cli(nil, step.args...); !strings.Contains(herr, "Native and generic XDP can't be active at the same time") {
				t.Errorf("%s: %q, want the kernel's reason", strings.Join(step.args, " "), herr)
			}
		}
		shown()
	}
	same("-j", "net", "show")
	same("net", "detach", "xdpgeneric", "dev", a)
	shown()
}
