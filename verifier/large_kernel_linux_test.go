package verifier

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/rlimit"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

var largeKernelTime = regexp.MustCompile(`verification time (\d+) usec`)

// BenchmarkLargeVsKernel verifies the large generated programs of
// BenchmarkLarge with bpfhost and, beside them, loads the same bytecode as
// XDP programs into the Linux kernel and reports the verification time the
// kernel logs (verify-ns/op), so that both sides measure only verification.
//
//	go test ./verifier -run '^$' -bench LargeVsKernel
func BenchmarkLargeVsKernel(b *testing.B) {
	kernel := rlimit.RemoveMemlock() == nil
	for _, o := range largeOptions {
		prog := largeProgram(o)
		b.Run(largeName(o)+"/bpfhost", func(b *testing.B) {
			opts := Options{Type: xdpInfo(b), ABI: linux.ABI()}
			for b.Loop() {
				if _, err := Verify(prog, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(prog)), "insns")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(prog)), "ns/insn")
		})
		b.Run(largeName(o)+"/kernel", func(b *testing.B) {
			if !kernel {
				b.Skip("bpf() not permitted here")
			}
			insns, err := asm.AppendInstructions(nil, bytes.NewReader(isa.Encode(prog)), binary.LittleEndian, "linux")
			if err != nil {
				b.Fatal(err)
			}
			spec := &ebpf.ProgramSpec{Type: ebpf.XDP, Instructions: insns, License: "GPL"}
			var total float64
			for b.Loop() {
				p, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats})
				if err != nil {
					b.Skipf("the kernel rejects the program: %v", err)
				}
				m := largeKernelTime.FindStringSubmatch(p.VerifierLog)
				p.Close()
				if m == nil {
					b.Skip("no verification time in the kernel's log")
				}
				us, _ := strconv.ParseFloat(m[1], 64)
				total += us
			}
			b.ReportMetric(total*1000/float64(b.N), "verify-ns/op")
			b.ReportMetric(total*1000/float64(b.N)/float64(len(prog)), "verify-ns/insn")
			b.ReportMetric(float64(len(prog)), "insns")
		})
	}
}
