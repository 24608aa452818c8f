package bench

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
)

// requireKernel skips where bpf() is not permitted: a trivial socket
// filter does not load. Past it, the kernel refusing the committed objects
// is a failure, not a reason to skip.
func requireKernel(tb testing.TB) {
	tb.Helper()
	if err := rlimit.RemoveMemlock(); err != nil {
		tb.Skipf("bpf() not permitted, no kernel figure: %v", err)
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, License: "MIT",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err != nil {
		tb.Skipf("bpf() not permitted, no kernel figure: %v", err)
	}
	p.Close()
}

func loadKernel(b *testing.B) *ebpf.Collection {
	b.Helper()
	requireKernel(b)
	spec, err := ebpf.LoadCollectionSpec("progs/progs.o")
	if err != nil {
		b.Fatal(err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		b.Fatalf("the kernel refuses progs/progs.o: %v", err)
	}
	b.Cleanup(func() { coll.Close() })
	fillTable(b, func(k uint32, v uint64) error { return coll.Maps["table"].Put(k, v) })
	return coll
}

// runKernel runs prog with BPF_PROG_TEST_RUN and repeat = b.N; the kernel
// times the runs itself.
func runKernel(b *testing.B, prog string) {
	coll := loadKernel(b)
	b.ResetTimer()
	_, d, err := coll.Programs[prog].Benchmark(input, b.N, nil)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(d.Nanoseconds()), "ns/run")
}

func runKernelRingbuf(b *testing.B) {
	coll := loadKernel(b)
	rd, err := ringbuf.NewReader(coll.Maps["events"])
	if err != nil {
		b.Fatal(err)
	}
	defer rd.Close()
	prog := coll.Programs["ringbuf_out"]
	var rec ringbuf.Record
	drain := func() int {
		n := 0
		for rd.AvailableBytes() > 0 {
			rd.SetDeadline(time.Now().Add(time.Second))
			if err := rd.ReadInto(&rec); err != nil {
				b.Fatal(err)
			}
			n++
		}
		return n
	}
	b.ResetTimer()
	var total time.Duration
	got := 0
	for done := 0; done < b.N; {
		n := min(ringChunk, b.N-done)
		_, d, err := prog.Benchmark(input, n, nil)
		if err != nil {
			b.Fatal(err)
		}
		total += d * time.Duration(n)
		b.StopTimer()
		got += drain()
		b.StartTimer()
		done += n
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/run")
	b.ReportMetric(float64(b.N-got)/float64(b.N), "lost/run")
}

// TestResultsKernel runs each benchmark program once in the kernel and
// checks wantResults, which TestResults checks on bpfhost's engines.
func TestResultsKernel(t *testing.T) {
	requireKernel(t)
	spec, err := ebpf.LoadCollectionSpec("progs/progs.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Fatalf("the kernel refuses progs/progs.o: %v", err)
	}
	defer coll.Close()
	for i := uint32(0); i < 1024; i++ {
		if err := coll.Maps["table"].Put(i, uint64(i)*3); err != nil {
			t.Fatal(err)
		}
	}
	for prog, want := range wantResults {
		got, err := coll.Programs[prog].Run(&ebpf.RunOptions{Data: input})
		if err != nil || got != want {
			t.Errorf("%s in the kernel: %#x, %v; want %#x", prog, got, err, want)
		}
	}
}
