package verifier

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// BenchmarkObjects measures verification time per program of the
// repository's objects.
func BenchmarkObjects(b *testing.B) {
	paths, _ := filepath.Glob("../examples/*.o")
	more, _ := filepath.Glob("../testdata/agreement/*.o")
	paths = append(paths, more...)
	for _, path := range paths {
		spec, err := object.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range spec.Programs {
			opts, err := objectOptions(spec, p)
			if err != nil {
				continue
			}
			b.Run(filepath.Base(path)+"/"+p.Name, func(b *testing.B) {
				for b.Loop() {
					if _, err := Verify(p.Instructions, opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkLarge measures large generated programs: thousands of slots
// with branches and nested loops.
func BenchmarkLarge(b *testing.B) {
	for _, o := range []progen.Options{
		{MaxLen: 4000, Jumps: true},
		{MaxLen: 4000, Jumps: true, Loops: true, MaxIterations: 64},
	} {
		g := progen.New(rand.New(rand.NewPCG(1, 1)), o)
		var prog = g.Program()
		for len(prog) < 3000 {
			prog = g.Program()
		}
		name := "jumps"
		if o.Loops {
			name = "jumps+loops"
		}
		b.Run(name, func(b *testing.B) {
			opts := Options{Type: xdpInfo(b), ABI: linux.ABI()}
			for b.Loop() {
				if _, err := Verify(prog, opts); err != nil {
					// Known: nested loops in 4,000-slot programs can exhaust
					// the iteration limit (see the package report).
					b.Skip(err)
				}
			}
			b.ReportMetric(float64(len(prog)), "insns")
		})
	}
}
