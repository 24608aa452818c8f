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
		zero              bool // Result.ZeroEntryFrame of an accepted program
	}{
		{"unwritten", printk + "mov %r0, 2\nexit", "", true},
		{"partly written", "stw [%r10-12], 7\n" + printk + "mov %r0, 2\nexit", "", true},
		{"all written", "stdw [%r10-16], 7\nstdw [%r10-8], 7\n" + printk + "mov %r0, 2\nexit", "", false},
		{"pointer on one path", "ldxw %r2, [%r1+0]\njeq %r2, 0, +1\nstxdw [%r10-16], %r1\n" + printk + "mov %r0, 2\nexit", "reads uninitialised stack", false},
		{"pointer overwritten", "stxdw [%r10-16], %r1\nstdw [%r10-16], 0\n" + printk + "mov %r0, 2\nexit", "", true},
		{"callee frame", "call local f\nmov %r0, 2\nexit\nf:\n" + printk + "mov %r0, 0\nexit", "reads uninitialised stack", false},
		{"direct load", "ldxdw %r0, [%r10-16]\nmov %r0, 2\nexit", "uninitialised stack read", false},
		{"no stack", "mov %r0, 2\nexit", "", false},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		res, err := Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI()})
		switch {
		case tt.reject == "" && err != nil:
			t.Errorf("%s: rejected: %v", tt.name, err)
		case tt.reject == "" && res.ZeroEntryFrame != tt.zero:
			// The run time clears the entry frame only for programs
			// with the fact: without it, unwritten bytes would hold an
			// earlier run's data.
			t.Errorf("%s: ZeroEntryFrame %v, want %v", tt.name, res.ZeroEntryFrame, tt.zero)
		case tt.reject != "" && err == nil:
			t.Errorf("%s: accepted, want a rejection mentioning %q", tt.name, tt.reject)
		case tt.reject != "" && !strings.Contains(err.Error(), tt.reject):
			t.Errorf("%s: %v, want a message mentioning %q", tt.name, err, tt.reject)
		}
	}
}
