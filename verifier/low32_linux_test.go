package verifier

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"
)

// TestLow32FactsKernel: Linux's verifier gives each of low32Cases the
// verdict TestLow32Facts holds bpfhost to. Needs root (skips otherwise).
func TestLow32FactsKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load programs into the kernel")
	}
	for _, c := range low32Cases {
		spec := &ebpf.ProgramSpec{Type: ebpf.XDP, Instructions: kernelInsns(t, low32Program(t, c), nil), License: "GPL"}
		checkKernelVerdict(t, c.name, spec, c.accept)
	}
}
