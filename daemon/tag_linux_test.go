package daemon

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfhost/bpfhost"
)

// TestTagAgreesWithLinux loads the test objects into the kernel and
// compares the tag it computes with Tag.
func TestTagAgreesWithLinux(t *testing.T) {
	for _, obj := range []string{"testdata/counter.o", "../testdata/cli/consts.o", "../examples/firewall.o"} {
		cs, err := ebpf.LoadCollectionSpec(obj)
		if err != nil {
			t.Fatal(err)
		}
		coll, err := ebpf.NewCollection(cs)
		if err != nil {
			t.Skipf("the kernel does not load %s here: %v", obj, err)
		}
		spec, err := bpfhost.LoadCollectionSpec(obj)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range coll.Programs {
			info, err := p.Info()
			if err != nil {
				t.Fatal(err)
			}
			ps := findProgram(spec, name)
			if ps == nil {
				t.Fatalf("%s: bpfhost has no program %s", obj, name)
			}
			// Kernels before 6.18 hash with SHA-1.
			if got, legacy := Tag(ps), LegacyTag(ps); got != info.Tag && legacy != info.Tag {
				t.Errorf("%s: %s: tag %s (legacy %s), Linux says %s", obj, name, got, legacy, info.Tag)
			}
		}
		coll.Close()
	}
}
