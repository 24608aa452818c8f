package bpfhost

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// TestRodataKernel loads each row of rodataVerdicts into the running kernel
// with cilium/ebpf, which writes the constants into .rodata and freezes it
// as libbpf does, so that Linux's verifier reads them as constants: its
// verdicts must be the table's, which bpfhost's are checked against
// (TestRodataConstants); the rows where the two differ are the table's
// documented precision gaps, where bpfhost is stricter, never looser. It
// needs root.
func TestRodataKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here, no kernel to compare with: %v", err)
	}
	for _, tc := range rodataVerdicts {
		kspec, err := ebpf.LoadCollectionSpec(rodataObject)
		if err != nil {
			t.Fatal(err)
		}
		var ports [8]uint16
		for i := range ports {
			ports[i] = uint16(10 * (i + 1))
		}
		if err := kspec.Variables["ports"].Set(ports); err != nil {
			t.Fatal(err)
		}
		if err := kspec.Variables["ports_len"].Set(tc.n); err != nil {
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
			t.Fatalf("%s, ports_len %d: the kernel cannot load it: %v", tc.prog, tc.n, err)
		}
		t.Logf("%s, ports_len %d: kernel %s", tc.prog, tc.n, firstLine(errString(err)))
		if (err == nil) != tc.kernel {
			t.Errorf("%s, ports_len %d: kernel %v, want accepted=%v", tc.prog, tc.n, firstLine(errString(err)), tc.kernel)
		}
		if tc.bpfhost == "" && !tc.kernel {
			t.Errorf("%s, ports_len %d: the table has bpfhost accept what the kernel refuses", tc.prog, tc.n)
		}
	}
}
