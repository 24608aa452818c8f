package verifier

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/internal/progen"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// BenchmarkObjects measures verification time per program of the
// repository's objects.
func BenchmarkObjects(b *testing.B) {
	eachObjectProgram(b, func(path string, p *object.ProgramSpec, opts Options) {
		b.Run(filepath.Base(path)+"/"+p.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Verify(p.Instructions, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// eachObjectProgram calls f for every program of the repository's
// objects (examples and agreement) that has options to verify it with.
func eachObjectProgram(tb testing.TB, f func(path string, p *object.ProgramSpec, opts Options)) {
	paths, _ := filepath.Glob("../examples/*.o")
	more, _ := filepath.Glob("../testdata/agreement/*.o")
	paths = append(paths, more...)
	if len(paths) == 0 {
		tb.Fatal("no objects found")
	}
	for _, path := range paths {
		spec, err := object.Load(path)
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range spec.Programs {
			opts, err := objectOptions(spec, p)
			if err != nil {
				continue
			}
			f(path, p, opts)
		}
	}
}

// largeOptions are the generated programs of BenchmarkLarge and
// TestLargeNestedLoops: thousands of slots with branches, and with nested
// loops.
var largeOptions = []progen.Options{
	{MaxLen: 4000, Jumps: true},
	{MaxLen: 4000, Jumps: true, Loops: true, MaxIterations: 64},
}

// largeProgram generates a program of at least 3000 slots.
func largeProgram(o progen.Options) []isa.Instruction {
	g := progen.New(rand.New(rand.NewPCG(1, 1)), o)
	prog := g.Program()
	for len(prog) < 3000 {
		prog = g.Program()
	}
	return prog
}

func largeName(o progen.Options) string {
	if o.Loops {
		return "jumps+loops"
	}
	return "jumps"
}

// BenchmarkLarge measures large generated programs: thousands of slots
// with branches and nested loops.
func BenchmarkLarge(b *testing.B) {
	for _, o := range largeOptions {
		prog := largeProgram(o)
		b.Run(largeName(o), func(b *testing.B) {
			opts := Options{Type: xdpInfo(b), ABI: linux.ABI()}
			for b.Loop() {
				if _, err := Verify(prog, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(prog)), "insns")
		})
	}
}

// TestLargeNestedLoops: the large generated programs, which are safe, are
// accepted well within the default iteration limit (nested loops used to
// exhaust it: a loop's widening, closed again after every round, could
// keep bringing back the bounds it dropped).
func TestLargeNestedLoops(t *testing.T) {
	if testing.Short() {
		t.Skip("large programs take a while")
	}
	for _, o := range largeOptions {
		prog := largeProgram(o)
		// A small fraction of the default limit, so that a regression
		// fails fast.
		res, err := Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI(), MaxIterations: DefaultMaxIterations / 64})
		if err != nil {
			t.Errorf("%s (%d slots): %v", largeName(o), len(prog), err)
			continue
		}
		t.Logf("%s: %d slots, %d block iterations in %v", largeName(o), len(prog), res.Iterations, res.Duration)
	}
}
