package xdp_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/netnstest"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// TestAttachRefusesEntryPrograms: a SEC("xdp/devmap") or SEC("xdp/cpumap")
// program runs only from a map entry; Attach and Update refuse it as the
// attached program, as Linux's dev_xdp_attach does (checked against the
// kernel when bpf() is permitted).
func TestAttachRefusesEntryPrograms(t *testing.T) {
	coll, pass := xdptest.Load(t, hookObject, "xdp_pass", "")
	for _, tc := range []struct{ program, want string }{
		{"xdp_dev_rewrite", "devmap entry program"},
		{"xdp_cpu_filter", "cpumap entry program"},
	} {
		prog := coll.Programs[tc.program]
		l, err := xdp.Attach(prog, xdp.Options{Interface: "lo", Workers: 1})
		if err == nil {
			l.Close()
			t.Errorf("attach %s: no error", tc.program)
		} else if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.program) {
			t.Errorf("attach %s: %v, want an error naming the program and %q", tc.program, err, tc.want)
		}
		if err := (&xdp.Link{}).Update(prog); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("update to %s: %v, want %q", tc.program, err, tc.want)
		}
	}
	if err := (&xdp.Link{}).Update(pass); err != nil {
		t.Errorf("update to xdp_pass: %v", err)
	}

	// The kernel's word on the same programs, on lo of a fresh namespace.
	netnstest.Require(t)
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("no bpf(): %v", err)
	}
	ns := netnstest.New(t)
	for _, name := range []string{"xdp_dev_rewrite", "xdp_cpu_filter"} {
		_, kprog := xdptest.LoadKernel(t, hookObject, name, "")
		ns.Do(t, func() error {
			lo, err := net.InterfaceByName("lo")
			if err != nil {
				return err
			}
			kl, err := link.AttachXDP(link.XDPOptions{Program: kprog, Interface: lo.Index, Flags: link.XDPGenericMode})
			if err == nil {
				kl.Close()
				t.Errorf("kernel: attach %s to lo: no error; bpfhost refuses it", name)
			} else if !errors.Is(err, unix.EINVAL) {
				t.Logf("kernel: attach %s: %v", name, err)
			}
			return nil
		})
	}
}
