package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/maps"
)

// input is the packet every benchmark runs on.
var input = make([]byte, 64)

// engineOptions returns the options that load programs on an engine of
// engines.
func engineOptions(engine string) *bpfhost.CollectionOptions {
	name, checked := strings.CutSuffix(engine, "-checked")
	return &bpfhost.CollectionOptions{Engine: name, Checked: checked}
}

// loadBpfhost loads the programs on an engine of engines: "interp", "jit",
// or either with "-checked" for checked mode.
func loadBpfhost(b *testing.B, engine string) *bpfhost.Collection {
	b.Helper()
	spec, err := bpfhost.LoadCollectionSpec("progs/progs.o")
	if err != nil {
		b.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, engineOptions(engine))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { coll.Close() })
	fillTable(b, func(k uint32, v uint64) error { return coll.Maps["table"].Put(k, v) })
	return coll
}

func fillTable(b *testing.B, put func(uint32, uint64) error) {
	for i := uint32(0); i < 1024; i++ {
		if err := put(i, uint64(i)*3); err != nil {
			b.Fatal(err)
		}
	}
}

// runBpfhost runs prog b.N times in one test run, as BPF_PROG_TEST_RUN with
// repeat does, and reports the average time of one run.
func runBpfhost(b *testing.B, coll *bpfhost.Collection, prog string) {
	p := coll.Programs[prog]
	opts := &bpfhost.RunOptions{Data: input, Repeat: uint32(b.N)}
	b.ResetTimer()
	cpu := cpuTime()
	if _, err := p.Run(opts); err != nil {
		b.Fatal(err)
	}
	cpu = cpuTime() - cpu
	b.StopTimer()
	b.ReportMetric(float64(opts.Duration.Nanoseconds()), "ns/run")
	if cpu >= 0 {
		// Process CPU time per run: less disturbed by other processes
		// than ns/run on a busy machine, but it includes the collector.
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/run")
	}
}

// engines are the bpfhost engines each benchmark runs on, beside the kernel;
// jit-checked is the JIT in checked mode (every access validated), in the
// same run as the trusted JIT so that their ratio is measured on the same
// machine state.
var engines = []string{"interp", "jit", "jit-checked"}

func benchmark(b *testing.B, prog string) {
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) {
			coll := loadBpfhost(b, engine)
			if got := coll.Programs[prog].Engine(); got != strings.TrimSuffix(engine, "-checked") {
				b.Skipf("%s runs on %s: %s", prog, got, coll.Programs[prog].Fallback())
			}
			runBpfhost(b, coll, prog)
		})
	}
	b.Run("kernel", func(b *testing.B) { runKernel(b, prog) })
}

// BenchmarkTrivial is the per-run overhead: a program that returns at once.
func BenchmarkTrivial(b *testing.B) { benchmark(b, "trivial") }

// BenchmarkArithLoop is a 1,000-iteration xorshift/multiply-add loop.
func BenchmarkArithLoop(b *testing.B) { benchmark(b, "arith_loop") }

// BenchmarkHashLookups is 64 lookups in a 1,024-entry hash map.
func BenchmarkHashLookups(b *testing.B) { benchmark(b, "hash_lookups") }

// ringChunk is how many records one test run produces before the reader
// drains the ring (untimed): the 1 MiB ring holds 14,563 records of 72 bytes.
const ringChunk = 10000

// BenchmarkRingbuf is one 64-byte ring buffer record per run: the cost of
// producing a record that a reader then receives. Runs go in chunks that
// fit in the ring, drained between chunks outside the timer; "lost" counts
// records that did not arrive and must be 0.
func BenchmarkRingbuf(b *testing.B) {
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) { ringbufBpfhost(b, engine) })
	}
	b.Run("kernel", func(b *testing.B) { runKernelRingbuf(b) })
}

func ringbufBpfhost(b *testing.B, engine string) {
	{
		coll := loadBpfhost(b, engine)
		rb := coll.Maps["events"].Unwrap().(*maps.RingBufMap)
		p := coll.Programs["ringbuf_out"]
		buf := make([]byte, 128)
		b.ResetTimer()
		var total time.Duration
		var cpu int64
		got := 0
		for done := 0; done < b.N; {
			n := min(ringChunk, b.N-done)
			opts := &bpfhost.RunOptions{Data: input, Repeat: uint32(n)}
			c := cpuTime()
			if _, err := p.Run(opts); err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime() - c
			total += opts.Duration * time.Duration(n)
			b.StopTimer()
			for {
				if _, err := rb.ReadInto(buf, time.Now()); err != nil {
					break
				}
				got++
			}
			b.StartTimer()
			done += n
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/run")
		if cpuTime() >= 0 {
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/run")
		}
		b.ReportMetric(float64(b.N-got)/float64(b.N), "lost/run")
	}
}
