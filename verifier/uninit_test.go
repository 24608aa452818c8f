package verifier

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestHelperReadsUnwrittenStack: a helper may read bytes of the entry
// frame the program has not written (the run starts with them zeroed), but
// not bytes that may hold part of a pointer, nor unwritten bytes of a
// callee's frame, and direct loads of unwritten bytes stay errors.
func TestHelperReadsUnwrittenStack(t *testing.T) {
	const printk = "mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\ncall 6\n"
	tests := []struct {
		name, src, reject string
	}{
		{"unwritten", printk + "mov %r0, 2\nexit", ""},
		{"partly written", "stw [%r10-12], 7\n" + printk + "mov %r0, 2\nexit", ""},
		{"pointer on one path", "ldxw %r2, [%r1+0]\njeq %r2, 0, +1\nstxdw [%r10-16], %r1\n" + printk + "mov %r0, 2\nexit", "reads uninitialised stack"},
		{"pointer overwritten", "stxdw [%r10-16], %r1\nstdw [%r10-16], 0\n" + printk + "mov %r0, 2\nexit", ""},
		{"callee frame", "call local f\nmov %r0, 2\nexit\nf:\n" + printk + "mov %r0, 0\nexit", "reads uninitialised stack"},
		{"direct load", "ldxdw %r0, [%r10-16]\nmov %r0, 2\nexit", "uninitialised stack read"},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_, err = Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI()})
		switch {
		case tt.reject == "" && err != nil:
			t.Errorf("%s: rejected: %v", tt.name, err)
		case tt.reject != "" && err == nil:
			t.Errorf("%s: accepted, want a rejection mentioning %q", tt.name, tt.reject)
		case tt.reject != "" && !strings.Contains(err.Error(), tt.reject):
			t.Errorf("%s: %v, want a message mentioning %q", tt.name, err, tt.reject)
		}
	}
}
