package verifier

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"
)

// kernelArray returns a kernel array map like fuzzMaps' arr (4-byte keys,
// 16-byte values, 4 entries), closed when t ends; it skips t unless it
// runs as root with bpf() permitted.
func kernelArray(t *testing.T) *ebpf.Map {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to load programs into the kernel")
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 4})
	if err != nil {
		t.Skipf("kernel maps unavailable: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestCallExitsApartKernel: Linux's verifier gives each of callExitCases
// and callExitMaybeCases the verdict TestCallExitsApart holds bpfhost to,
// with map 0 an array like fuzzMaps' arr. Needs root (skips otherwise).
func TestCallExitsApartKernel(t *testing.T) {
	m := kernelArray(t)
	cases, subs := callExitAll()
	for i, c := range cases {
		kernelVerdictIs(t, ebpf.XDP, c.name, assembleMaps(t, callExitProgram(c, subs[i])), m, c.accept)
	}
}

// TestNullInferenceKernel: Linux's verifier gives each of nullInferCases
// the verdict TestNullInference holds bpfhost to. Needs root (skips
// otherwise).
func TestNullInferenceKernel(t *testing.T) {
	m := kernelArray(t)
	for _, c := range nullInferCases {
		kernelVerdictIs(t, ebpf.XDP, c.name, assembleMaps(t, c.main), m, c.accept)
	}
}

// TestOffsetPairsKernel: Linux's verifier gives each of offsetPairCases
// the verdict TestOffsetPairs holds bpfhost to. Needs root (skips
// otherwise).
func TestOffsetPairsKernel(t *testing.T) {
	m := kernelArray(t)
	for _, c := range offsetPairCases {
		kernelVerdictIs(t, ebpf.XDP, c.name, assembleMaps(t, c.main), m, c.accept)
	}
}
