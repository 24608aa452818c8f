package verifier

import (
	"testing"

	"github.com/cilium/ebpf"
)

// TestSocketViewsKernel: Linux's verifier gives each of sockViewCases the
// verdict TestSocketViews holds bpfhost to, or accepts it where the case
// says why bpfhost does not. Needs root (skips otherwise).
func TestSocketViewsKernel(t *testing.T) {
	for _, c := range sockViewCases {
		kernelVerdictIs(t, ebpf.SchedCLS, c.name, sockViewProgram(t, c), nil, c.accept || c.notLinux != "")
	}
}
