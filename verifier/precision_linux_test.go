package verifier_test

import (
	"testing"

	"github.com/cilium/ebpf/rlimit"
)

// TestPrecisionKernel: the Linux kernel agrees with TestPrecisionShapes:
// it accepts every program of testdata/precision.o and rejects every
// program of testdata/precision_unsafe.o.
func TestPrecisionKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("the kernel spends seconds on the endless loops before it gives up")
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	kernelVerdictsAre(t, map[string]bool{"testdata/precision.o": true, "testdata/precision_unsafe.o": false})
}
