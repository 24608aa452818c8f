package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestSubprogramRules: a subprogram that returns nothing may leave r0 unset
// (Linux hands it back unchecked) but its caller may not read it; a tail
// call made in a subprogram is refused (Linux returns the target's result
// to the subprogram's caller, which bpfhost's engines do not); frames count
// toward the 512-byte combined stack rounded to 16 bytes, as Linux rounds
// for a JIT-compiled program.
func TestSubprogramRules(t *testing.T) {
	tests := []struct{ name, src, reject string }{
		{"void subprogram", "call local f\nmov %r0, 2\nexit\nf:\nstw [%r10-4], 1\nexit", ""},
		{"caller reads its r0", "call local f\nexit\nf:\nstw [%r10-4], 1\nexit", "r0 is uninitialised"},
		{"caller computes with its r0", "call local f\nadd %r0, 1\nmov %r0, 2\nexit\nf:\nexit", "r0"},
		{"tail call in main", "mov %r6, %r1\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit", ""},
		{"tail call in a subprogram", "call local f\nmov %r0, 0\nexit\nf:\nlddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit", "bpf_tail_call in a subprogram"},
		{"208 + 304 bytes", "stdw [%r10-200], 0\ncall local f\nmov %r0, 0\nexit\nf:\nstdw [%r10-304], 0\nmov %r0, 0\nexit", ""},
		{"224 + 304 bytes", "stdw [%r10-216], 0\ncall local f\nmov %r0, 0\nexit\nf:\nstdw [%r10-304], 0\nmov %r0, 0\nexit", "combined stack of 528 bytes"},
	}
	for _, tt := range tests {
		prog := assembleMaps(t, tt.src)
		_, err := Verify(prog, Options{Name: tt.name, Type: xdpInfo(t), ABI: linux.ABI(), Maps: factsMaps})
		checkVerdict(t, tt.name, err, tt.reject)
	}
}
