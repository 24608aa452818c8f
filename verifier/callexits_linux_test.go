package verifier

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"
)

// TestCallExitsApartKernel: Linux's verifier gives each of callExitCases
// and callExitMaybeCases the verdict TestCallExitsApart holds bpfhost to, with map 0 an array
// like fuzzMaps' arr. Needs root (skips otherwise).
func TestCallExitsApartKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load programs into the kernel")
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 4})
	if err != nil {
		t.Skipf("kernel maps unavailable: %v", err)
	}
	defer m.Close()
	cases, subs := callExitAll()
	for i, c := range cases {
		kernelVerdictIs(t, ebpf.XDP, c.name, assembleMaps(t, callExitProgram(c, subs[i])), m, c.accept)
	}
}

// TestNullInferenceKernel: Linux's verifier gives each of nullInferCases
// the verdict TestNullInference holds bpfhost to. Needs root (skips
// otherwise).
func TestNullInferenceKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load programs into the kernel")
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 4})
	if err != nil {
		t.Skipf("kernel maps unavailable: %v", err)
	}
	defer m.Close()
	for _, c := range nullInferCases {
		kernelVerdictIs(t, ebpf.XDP, c.name, assembleMaps(t, c.main), m, c.accept)
	}
}
