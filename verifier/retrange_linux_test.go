package verifier

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfhost/bpfhost/isa"
)

// TestOffsetCasesKernel: Linux's verifier gives each of offsetCases the
// verdict TestOffsetCases holds bpfhost to, and refuses those where
// bpfhost knows more than Linux. Needs root (skips otherwise).
func TestOffsetCasesKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load programs into the kernel")
	}
	for _, c := range offsetCases {
		prog, err := isa.Assemble(c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		spec := &ebpf.ProgramSpec{Type: ebpf.Kprobe, Instructions: kernelInsns(t, prog, nil), License: "GPL"}
		checkKernelVerdict(t, c.name, spec, c.accept && c.beyondLinux == "")
	}
}
