package verifier_test

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
)

var kernelVerifyTime = regexp.MustCompile(`verification time (\d+) usec`)

// BenchmarkVerifyVsKernel verifies every program of the repository's objects
// with bpfhost's verifier and reports, beside it, the verification time the
// Linux kernel itself reports for the same program (its stats log), so that
// both sides measure only verification.
//
//	go test ./verifier -run '^$' -bench VerifyVsKernel
func BenchmarkVerifyVsKernel(b *testing.B) {
	var objects []string
	for _, pattern := range []string{"../examples/*.o", "../testdata/agreement/*.o", "../bench/progs/*.o"} {
		files, _ := filepath.Glob(pattern)
		objects = append(objects, files...)
	}
	kernel := rlimit.RemoveMemlock() == nil
	for _, file := range objects {
		spec, err := bpfhost.LoadCollectionSpec(file)
		if err != nil {
			b.Fatal(err)
		}
		for _, ps := range spec.Programs {
			info, ok := linux.ABI().Lookup(ps.Section)
			if !ok {
				continue
			}
			name := filepath.Base(file) + "/" + ps.Name
			b.Run(name+"/bpfhost", func(b *testing.B) {
				opts := bpfhost.VerifierOptions(spec, ps, info)
				for b.Loop() {
					if _, err := verifier.Verify(ps.Instructions, opts); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ps.Instructions)), "ns/insn")
			})
			b.Run(name+"/kernel", func(b *testing.B) {
				if !kernel {
					b.Skip("bpf() not permitted here")
				}
				cs, err := ebpf.LoadCollectionSpec(file)
				if err != nil {
					b.Fatal(err)
				}
				var total float64
				for b.Loop() {
					coll, err := ebpf.NewCollectionWithOptions(cs, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats}})
					if err != nil {
						b.Skipf("kernel load: %v", err)
					}
					m := kernelVerifyTime.FindStringSubmatch(coll.Programs[ps.Name].VerifierLog)
					coll.Close()
					if m == nil {
						b.Skip("no verification time in the kernel's log")
					}
					us, _ := strconv.ParseFloat(m[1], 64)
					total += us
				}
				b.ReportMetric(total*1000/float64(b.N), "verify-ns/op")
				b.ReportMetric(total*1000/float64(b.N)/float64(len(ps.Instructions)), "verify-ns/insn")
			})
		}
	}
}
