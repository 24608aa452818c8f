package verifier_test

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
)

// TestSignJoinKernel: the Linux kernel agrees with TestSignJoinShapes: it
// accepts every program of testdata/signjoin/signjoin.o and rejects every
// program of testdata/signjoin/signjoin_unsafe.o.
func TestSignJoinKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	kernelVerdictsAre(t, map[string]bool{"testdata/signjoin/signjoin.o": true, "testdata/signjoin/signjoin_unsafe.o": false})
}

// kernelVerdictsAre loads each program of each object alone in the kernel
// and checks its verdict: accepted for the objects mapped to true,
// rejected for the others.
func kernelVerdictsAre(t *testing.T, objects map[string]bool) {
	t.Helper()
	for path, accept := range objects {
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
