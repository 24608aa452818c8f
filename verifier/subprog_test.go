package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestSubprogramRules: a subprogram that returns nothing may leave r0 unset
// (Linux hands it back unchecked) but its caller may not read it; frames
// count toward the 512-byte combined stack rounded to 16 bytes, as Linux
// rounds for a JIT-compiled program; a tail call made in a subprogram
// returns the target's r0 to the caller (any number; packet pointers do
// not survive it), and only below 256 bytes of callers' frames, as Linux
// has it (each verdict checked against the kernel: tail_sub.c in
// testdata, TestTailSubKernel).
func TestSubprogramRules(t *testing.T) {
	tests := []struct{ name, src, reject string }{
		{"void subprogram", "call local f\nmov %r0, 2\nexit\nf:\nstw [%r10-4], 1\nexit", ""},
		{"caller reads its r0", "call local f\nexit\nf:\nstw [%r10-4], 1\nexit", "r0 is uninitialised"},
		{"caller computes with its r0", "call local f\nadd %r0, 1\nmov %r0, 2\nexit\nf:\nexit", "r0"},
		{"tail call in main", "mov %r6, %r1\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit", ""},
		{"tail call in a subprogram", "call local f\nmov %r0, 0\nexit\nf:\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit", ""},
		{"its r0 is the target's", "call local f\njeq %r0, 7, ok\nldxdw %r0, [%r10+8]\nexit\nok:\nmov %r0, 0\nexit\nf:\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 7\nexit", "r10+8"},
		{"a void one returns a number or nothing", "call local f\nadd %r0, 1\nmov %r0, 0\nexit\nf:\nlddw %r2, 2\nmov %r3, 0\ncall 12\nexit", "r0"},
		{"packet pointers do not survive it", "mov %r6, %r1\nldxw %r7, [%r1+0]\nldxw %r8, [%r1+4]\nmov %r9, %r7\nadd %r9, 1\njgt %r9, %r8, out\ncall local f\nldxb %r0, [%r7+0]\nexit\nout:\nmov %r0, 0\nexit\nf:\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 7\nexit", "invalidated"},
		{"packet pointers survive a failed one in the subprogram", "call local f\nmov %r0, 0\nexit\nf:\nmov %r6, %r1\nldxw %r7, [%r1+0]\nldxw %r8, [%r1+4]\nmov %r9, %r7\nadd %r9, 1\njgt %r9, %r8, out\nlddw %r2, 2\nmov %r3, 0\ncall 12\nldxb %r0, [%r7+0]\nexit\nout:\nmov %r0, 0\nexit", ""},
		{"240 bytes of callers' frames", "stdw [%r10-240], 0\ncall local f\nexit\nf:\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 7\nexit", ""},
		{"248 bytes round to 256", "stdw [%r10-248], 0\ncall local f\nexit\nf:\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 7\nexit", "callers' frames take 256 bytes"},
		{"128 + 112 bytes of callers' frames", "stdw [%r10-128], 0\ncall local g\nexit\ng:\nstdw [%r10-112], 0\ncall local f\nexit\nf:\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 7\nexit", ""},
		{"128 + 144 bytes of callers' frames", "stdw [%r10-128], 0\ncall local g\nexit\ng:\nstdw [%r10-136], 0\ncall local f\nexit\nf:\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 7\nexit", "callers' frames take 272 bytes"},
		{"its own frame does not count", "stdw [%r10-8], 0\ncall local f\nexit\nf:\nstdw [%r10-304], 0\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 7\nexit", ""},
		{"a tail call never reached counts", "stdw [%r10-256], 0\ncall local f\nexit\nf:\nmov %r0, 7\njeq %r0, 7, out\nlddw %r2, 2\nmov %r3, 0\ncall 12\nout:\nexit", "callers' frames take 256 bytes"},
		{"main's own frame does not count", "stdw [%r10-512], 0\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit", ""},
		{"208 + 304 bytes", "stdw [%r10-200], 0\ncall local f\nmov %r0, 0\nexit\nf:\nstdw [%r10-304], 0\nmov %r0, 0\nexit", ""},
		{"224 + 304 bytes", "stdw [%r10-216], 0\ncall local f\nmov %r0, 0\nexit\nf:\nstdw [%r10-304], 0\nmov %r0, 0\nexit", "combined stack of 528 bytes"},
	}
	for _, tt := range tests {
		prog := assembleMaps(t, tt.src)
		_, err := Verify(prog, Options{Name: tt.name, Type: xdpInfo(t), ABI: linux.ABI(), Maps: factsMaps})
		checkVerdict(t, tt.name, err, tt.reject)
	}
}
