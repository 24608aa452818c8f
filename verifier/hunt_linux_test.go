package verifier_test

import (
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
)

// TestHuntKernel: the Linux kernel accepts every program of the hunts'
// objects (testdata/hunt*.o), the shapes TestHuntGaps lists as bpfhost's
// gaps.
func TestHuntKernel(t *testing.T) {
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Skipf("bpf() not permitted here: %v", err)
	}
	paths, err := filepath.Glob("testdata/hunt*.o")
	if err != nil || len(paths) < 3 {
		t.Fatalf("hunt objects: %v, %v", paths, err)
	}
	for _, path := range paths {
		cs, err := ebpf.LoadCollectionSpec(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs.Programs) == 0 {
			t.Fatalf("%s: no programs", path)
		}
		for name := range cs.Programs {
			one := cs.Copy()
			for other := range one.Programs {
				if other != name {
					delete(one.Programs, other)
				}
			}
			coll, err := ebpf.NewCollection(one)
			if err != nil {
				t.Errorf("%s: %s: the kernel rejects it: %v", path, name, err)
				continue
			}
			coll.Close()
		}
	}
}
