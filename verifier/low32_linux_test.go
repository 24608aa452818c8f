package verifier

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfhost/bpfhost/isa"
)

// TestLow32FactsKernel: Linux's verifier gives each of low32Cases the
// verdict TestLow32Facts holds bpfhost to. Needs root (skips otherwise).
func TestLow32FactsKernel(t *testing.T) {
	for _, c := range low32Cases {
		kernelVerdictIs(t, ebpf.XDP, c.name, low32Program(t, c), nil, c.accept)
	}
}

// kernelVerdictIs loads prog, a program of type typ whose lddw of map 0
// is m (if any), into the kernel, which must accept it or refuse it as
// accept says; it skips t unless it runs as root.
func kernelVerdictIs(t *testing.T, typ ebpf.ProgramType, name string, prog []isa.Instruction, m *ebpf.Map, accept bool) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to load programs into the kernel")
	}
	spec := &ebpf.ProgramSpec{Type: typ, Instructions: kernelInsns(t, prog, m), License: "GPL"}
	checkKernelVerdict(t, name, spec, accept)
}
