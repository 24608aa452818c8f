package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestZextPair: `rX <<= 32; rX >>= 32` keeps rX's relations only when rX
// is known to fit in 32 bits. A counter tested through such a copy is
// bounded (the loop ends); a value of 2^32+5 is not related to its zero
// extension, so a branch that depends on the difference is not judged
// dead, and the bad read behind it is found.
func TestZextPair(t *testing.T) {
	tests := []struct{ name, src, reject string }{
		{"counter", "mov %r7, 10\nl:\nadd %r7, -1\nmov %r1, %r7\nlsh %r1, 32\nrsh %r1, 32\njne %r1, 0, l\nmov %r0, 2\nexit", ""},
		{"wide value", "lddw %r7, 0x100000005\nmov %r1, %r7\nlsh %r1, 32\nrsh %r1, 32\njne %r1, 5, +2\nldxdw %r0, [%r7+0]\nexit\nmov %r0, 2\nexit", "number"},
		{"not a pair", "ldxw %r7, [%r1+16]\nmov %r1, %r7\nlsh %r1, 32\nmov %r2, 0\nrsh %r1, 32\njeq %r1, %r7, +2\nldxdw %r0, [%r7+0]\nexit\nmov %r0, 2\nexit", "number"},
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
