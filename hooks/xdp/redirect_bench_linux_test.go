package xdp

import (
	"testing"

	"github.com/bpfhost/bpfhost"
)

// BenchmarkRedirectTarget measures what the worker does per redirected
// frame to resolve its target: a devmap_hash entry (target) and a cpumap
// entry (toCPU's lookup). Neither may allocate.
func BenchmarkRedirectTarget(b *testing.B) {
	spec, err := bpfhost.LoadCollectionSpec("testdata/hook.o")
	if err != nil {
		b.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer coll.Close()
	if err := coll.Maps["ports"].Put(uint32(7), uint32(7)); err != nil {
		b.Fatal(err)
	}
	if err := coll.Maps["cpus"].Put(uint32(1), uint32(2)); err != nil {
		b.Fatal(err)
	}
	dev := bpfhost.XDPMapRedirect(coll.Maps["ports"], 7, 0)
	in := &iface{ns: &netnsIfaces{}}
	cpu := bpfhost.XDPMapRedirect(coll.Maps["cpus"], 1, 0)
	b.Run("devmap", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, _, err := target(&dev, 0, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cpumap", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if dev.MapType() == bpfhost.MapCPUMap {
				b.Fatal("devmap is a cpumap")
			}
			if q, _, ok, _ := cpu.CPUMapEntry(0); !ok || q != 2 {
				b.Fatal("no cpumap entry")
			}
		}
	})
}
