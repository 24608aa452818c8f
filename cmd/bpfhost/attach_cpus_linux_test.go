package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/internal/netnstest"
)

// TestAttachXDPWorkerCPUs checks that --worker-cpus reaches the workers: a
// CPU no thread can run on leaves the worker's trace line on stderr.
func TestAttachXDPWorkerCPUs(t *testing.T) {
	netnstest.Require(t)
	mid, n1 := netnstest.New(t), netnstest.New(t)
	a0, e1 := netnstest.Uniq("cw"), netnstest.Uniq("cx")
	netnstest.Veth(t, mid, a0, n1, e1)
	var stdout, stderr bytes.Buffer
	mid.Do(t, func() error {
		root := newRoot()
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		root.SetArgs([]string{"attach", "xdp", examples + "firewall.o", "--dev", a0, "--duration", "300ms",
			"--workers", "1", "--worker-cpus", "1023"})
		return root.Execute()
	})
	if want := "xdp worker 0: pin to CPU 1023:"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q: want a line with %q", stderr.String(), want)
	}
}
