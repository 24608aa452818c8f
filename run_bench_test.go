package bpfhost_test

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// BenchmarkProgramRun is what an embedder pays per packet: one Program.Run
// (a fresh XDP buffer and context, the run, the verdict) of the example
// firewall on an IPv4 packet that it passes, on each engine (jit-checked:
// the JIT in checked mode), serially and from all Ps at once.
//
//	go test -run '^$' -bench ProgramRun .
func BenchmarkProgramRun(b *testing.B) {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		b.Fatal(err)
	}
	pkt := ipv4Packet([4]byte{10, 1, 2, 3})
	for _, engine := range []string{"interp", "jit", "jit-checked"} {
		name, checked := strings.CutSuffix(engine, "-checked")
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: name, Checked: checked})
		if err != nil {
			b.Fatal(err)
		}
		prog := coll.Programs["xdp_firewall"]
		if prog.Engine() != name {
			b.Logf("%s: runs on %s (%s)", engine, prog.Engine(), prog.Fallback())
			coll.Close()
			continue
		}
		b.Run(engine, func(b *testing.B) {
			for b.Loop() {
				if _, err := prog.Run(&bpfhost.RunOptions{Data: pkt}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(engine+"-parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := prog.Run(&bpfhost.RunOptions{Data: pkt}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		coll.Close()
	}
}
