package verifier_test

import (
	"testing"

	"github.com/cilium/ebpf"
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
	for path, accept := range map[string]bool{"testdata/precision.o": true, "testdata/precision_unsafe.o": false} {
		cs, err := ebpf.LoadCollectionSpec(path)
		if err != nil {
			t.Fatal(err)
		}
		for name := range cs.Programs {
			one := cs.Copy()
			for other := range one.Programs {
				if other != name {
					delete(one.Programs, other)
				}
			}
			coll, err := ebpf.NewCollection(one)
			if err == nil {
				coll.Close()
			}
			switch {
			case accept && err != nil:
				t.Errorf("%s: %s: the kernel rejects it: %v", path, name, err)
			case !accept && err == nil:
				t.Errorf("%s: %s: the kernel accepts it", path, name)
			}
		}
	}
}
