package bpfhost

import "testing"

// TestRodataKernel loads each row of rodataVerdicts into the running kernel
// with cilium/ebpf, which writes the constants into .rodata and freezes it
// as libbpf does, so that Linux's verifier reads them as constants: its
// verdicts must be the table's, which bpfhost's are checked against
// (TestRodataConstants); the rows where the two differ are the table's
// documented precision gaps, where bpfhost is stricter, never looser. It
// needs root.
func TestRodataKernel(t *testing.T) {
	var ports [8]uint16
	for i := range ports {
		ports[i] = uint16(10 * (i + 1))
	}
	for _, tc := range rodataVerdicts {
		err := kernelVerdict(t, rodataObject, tc.prog, map[string]any{"ports": ports, "ports_len": tc.n})
		t.Logf("%s, ports_len %d: kernel %s", tc.prog, tc.n, firstLine(errString(err)))
		if (err == nil) != tc.kernel {
			t.Errorf("%s, ports_len %d: kernel %v, want accepted=%v", tc.prog, tc.n, firstLine(errString(err)), tc.kernel)
		}
		if tc.bpfhost == "" && !tc.kernel {
			t.Errorf("%s, ports_len %d: the table has bpfhost accept what the kernel refuses", tc.prog, tc.n)
		}
	}
}
