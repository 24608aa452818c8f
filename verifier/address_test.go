package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestProbeReadSource: bpf_probe_read_kernel's source may be a number or a
// pointer (Linux's ARG_ANYTHING), but the bytes it copies must be ones the
// program could load: not a context that holds host pointers at run time
// (XDP's), not bytes that may hold part of a pointer, not past a map
// value. Unwritten bytes of a callee's frame are read as the callee's
// other stack (the call clears the frame, Result.ZeroCallFrames).
// The accepted shapes on tracing contexts are in testdata/hunt.c.
func TestProbeReadSource(t *testing.T) {
	const read = "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\n"
	tests := []struct{ name, src, reject string }{
		{"number", read + "mov %r3, 4096\ncall 113\nmov %r0, 2\nexit", ""},
		{"written stack", "stdw [%r10-16], 7\n" + read + "mov %r3, %r10\nadd %r3, -16\ncall 113\nmov %r0, 2\nexit", ""},
		{"xdp context", "mov %r6, %r1\n" + read + "mov %r3, %r6\ncall 113\nmov %r0, 2\nexit", "holds no pointers"},
		{"callee's unwritten stack", "call local f\nmov %r0, 2\nexit\nf:\n" + read + "mov %r3, %r10\nadd %r3, -16\ncall 113\nmov %r0, 0\nexit", ""},
		{"callee's spilled pointer", "call local f\nmov %r0, 2\nexit\nf:\nstxdw [%r10-16], %r10\n" + read + "mov %r3, %r10\nadd %r3, -12\ncall 113\nmov %r0, 0\nexit", "spilled pointer"},
		{"stack past the frame", read + "mov %r3, %r10\nadd %r3, -4\ncall 113\nmov %r0, 2\nexit", "outside"},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_, err = Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI()})
		checkVerdict(t, tt.name, err, tt.reject)
	}
}
