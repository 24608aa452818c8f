package verifier

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfhost/bpfhost/isa"
)

// TestOffsetCasesKernel: Linux's verifier gives each of offsetCases the
// verdict TestOffsetCases holds bpfhost to, and refuses those where
// bpfhost knows more than Linux. Needs root (skips otherwise).
func TestOffsetCasesKernel(t *testing.T) {
	for _, c := range offsetCases {
		prog, err := isa.Assemble(c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		kernelVerdictIs(t, ebpf.Kprobe, c.name, prog, nil, c.accept && c.beyondLinux == "")
	}
}
