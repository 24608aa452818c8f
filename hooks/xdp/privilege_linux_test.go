package xdp_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/bpfhost/bpfhost/hooks/xdp"
	"github.com/bpfhost/bpfhost/internal/xdptest"
)

// TestPrivilegeError attaches from a child process in a new user namespace,
// which has no capabilities over the host's network namespace: the error
// must name CAP_NET_RAW.
func TestPrivilegeError(t *testing.T) {
	if os.Getenv("BPFHOST_XDP_PRIVILEGE_CHILD") == "1" {
		_, prog := xdptest.Load(t, hookObject, "xdp_pass", "")
		l, err := xdp.Attach(prog, xdp.Options{Interface: "lo", Workers: 1})
		if err == nil {
			l.Close()
		}
		fmt.Printf("attach error: %v\n", err)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPrivilegeError$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "BPFHOST_XDP_PRIVILEGE_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "attach error") {
		t.Skipf("skipping: cannot run a child in a new user namespace: %v %s", err, out)
	}
	if !strings.Contains(string(out), "attach error: ") || !strings.Contains(string(out), "CAP_NET_RAW") {
		t.Errorf("attach without CAP_NET_RAW:\n%s\nwant an error naming CAP_NET_RAW", out)
	}
}
