package bpfhost

import "testing"

// TestStrideKernel loads each row of strideVerdicts into the running kernel
// with the constants frozen in .rodata: Linux's verdicts must be the
// table's, and bpfhost (TestStrideConstants) never accepts a row Linux
// refuses. It needs root.
func TestStrideKernel(t *testing.T) {
	var ports [8]uint32
	for i := range ports {
		ports[i] = uint32(10 * (i + 1))
	}
	for _, tc := range strideVerdicts {
		err := kernelVerdict(t, strideObject, tc.prog, map[string]any{"ports": ports, "len": tc.n})
		t.Logf("%s, len %d: kernel %s", tc.prog, tc.n, firstLine(errString(err)))
		if (err == nil) != tc.kernel {
			t.Errorf("%s, len %d: kernel %v, want accepted=%v", tc.prog, tc.n, firstLine(errString(err)), tc.kernel)
		}
		if tc.bpfhost == "" && !tc.kernel {
			t.Errorf("%s, len %d: the table has bpfhost accept what the kernel refuses", tc.prog, tc.n)
		}
	}
}
