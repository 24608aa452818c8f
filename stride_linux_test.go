package bpfhost

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// TestStrideKernel loads each row of strideVerdicts into the running kernel
// with cilium/ebpf, which freezes .rodata with the constants as libbpf
// does: Linux's verdicts must be the table's, and bpfhost
// (TestStrideConstants) never accepts a row Linux refuses. It needs root.
func TestStrideKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here, no kernel to compare with: %v", err)
	}
	for _, tc := range strideVerdicts {
		kspec, err := ebpf.LoadCollectionSpec(strideObject)
		if err != nil {
			t.Fatal(err)
		}
		var ports [8]uint32
		for i := range ports {
			ports[i] = uint32(10 * (i + 1))
		}
		if err := kspec.Variables["ports"].Set(ports); err != nil {
			t.Fatal(err)
		}
		if err := kspec.Variables["len"].Set(tc.n); err != nil {
			t.Fatal(err)
		}
		for n := range kspec.Programs {
			if n != tc.prog {
				delete(kspec.Programs, n)
			}
		}
		coll, err := ebpf.NewCollection(kspec)
		var ve *ebpf.VerifierError
		switch {
		case err == nil:
			coll.Close()
		case errors.As(err, &ve):
		case errors.Is(err, unix.EPERM):
			t.Skipf("bpf() not permitted here: %v", err)
		default:
			t.Fatalf("%s, len %d: the kernel cannot load it: %v", tc.prog, tc.n, err)
		}
		t.Logf("%s, len %d: kernel %s", tc.prog, tc.n, firstLine(errString(err)))
		if (err == nil) != tc.kernel {
			t.Errorf("%s, len %d: kernel %v, want accepted=%v", tc.prog, tc.n, firstLine(errString(err)), tc.kernel)
		}
		if tc.bpfhost == "" && !tc.kernel {
			t.Errorf("%s, len %d: the table has bpfhost accept what the kernel refuses", tc.prog, tc.n)
		}
	}
}
