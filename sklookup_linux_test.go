package bpfhost_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/internal/socktest"
)

// TestSocketLookupKernel runs testdata/sklookup's tc and XDP programs in the
// kernel (BPF_PROG_TEST_RUN) and in bpfhost's engines over packets for a
// TCP listener, both ends of an established TCP connection and a bound
// UDP socket that the test holds on 127.0.0.1 and ::1, and for a port
// nobody uses:
// the verdicts and what the program recorded of each socket must be the
// same. Skips without the kernel oracle (root) or where bpfhost cannot ask
// the host for sockets (no sock_diag).
func TestSocketLookupKernel(t *testing.T) {
	requireKernel(t)
	packets := socktest.Open(t).Packets()
	var inputs [][]byte
	for _, p := range packets {
		inputs = append(inputs, p.Data)
	}
	for _, c := range []struct {
		prog  string
		found uint32 // the verdict when a socket is found
	}{{"tc_sklookup", 0}, {"xdp_sklookup", 2}} {
		t.Run(c.prog, func(t *testing.T) {
			a := agreement{object: "testdata/sklookup/sklookup.o", program: c.prog, inputs: inputs}
			k := runKernel(t, a)
			// The kernel finds the test's sockets (what bpfhost must find
			// too), so the comparison compares sockets found. (On the free
			// port it finds nothing, unless another process took the port
			// since: the comparison holds either way.)
			for i, p := range packets {
				if p.Found && !strings.HasPrefix(k.runs[i], fmt.Sprintf("retval %d ", c.found)) {
					t.Fatalf("kernel, input %d: %s, want retval %d", i+1, k.runs[i], c.found)
				}
			}
			for _, engine := range engines {
				a.engine = engine
				t.Run(engine, func(t *testing.T) { compareWith(t, a, k) })
			}
		})
	}
}
