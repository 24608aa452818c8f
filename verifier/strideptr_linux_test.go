package verifier_test

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/bpfhost/bpfhost/internal/progen"
)

// TestStridedPointerKernel: Linux's verifier gives each row of
// stridedPointerCases the verdict the table gives bpfhost's. It needs
// root.
func TestStridedPointerKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	for i, tt := range stridedPointerCases {
		err, log := kernelVerify(progen.HostileProgram{Type: progen.HostileXDP, Instructions: stridedPointerCase(t, i)}, nil)
		var ve *ebpf.VerifierError
		if err != nil && !errors.As(err, &ve) {
			if errors.Is(err, unix.EPERM) {
				t.Skipf("bpf() not permitted here: %v", err)
			}
			t.Fatalf("%s: the kernel cannot load it: %v", tt.name, err)
		}
		if (err == nil) != (tt.reject == "") {
			t.Errorf("%s: kernel %v, want accepted=%v\n%s", tt.name, err, tt.reject == "", log)
		}
	}
}
