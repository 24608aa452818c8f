package bpfhost

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// kernelVerdict loads program prog of object into the running kernel with
// cilium/ebpf after setting the variables vars (which for const volatile
// globals writes .rodata and freezes it, as libbpf does, so that Linux's
// verifier reads them as constants), and returns nil or Linux's verifier
// error. It skips the test where bpf() is not permitted.
func kernelVerdict(t *testing.T, object, prog string, vars map[string]any) error {
	t.Helper()
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here, no kernel to compare with: %v", err)
	}
	kspec, err := ebpf.LoadCollectionSpec(object)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range vars {
		if err := kspec.Variables[name].Set(v); err != nil {
			t.Fatal(err)
		}
	}
	for n := range kspec.Programs {
		if n != prog {
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
		t.Fatalf("%s: the kernel cannot load it: %v", prog, err)
	}
	return err
}
