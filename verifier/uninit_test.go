package verifier

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestHelperReadsUnwrittenStack: a program may read bytes of its frames
// it has not written, with a helper or a load (the run time then zeroes
// the entry frame at each run, ZeroEntryFrame, and each called function's
// frame at each call, ZeroCallFrames), but not bytes that may hold part
// of a pointer, and atomic operations on unwritten bytes stay errors.
func TestHelperReadsUnwrittenStack(t *testing.T) {
	const printk = "mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\ncall 6\n"
	const ptrOnOnePath = "ldxw %r2, [%r1+0]\njeq %r2, 0, +1\nstxdw [%r10-16], %r1\n"
	tests := []struct {
		name, src, reject string
		zero, calls       bool // Result.ZeroEntryFrame, ZeroCallFrames of an accepted program
	}{
		{"unwritten", printk + "mov %r0, 2\nexit", "", true, false},
		{"partly written", "stw [%r10-12], 7\n" + printk + "mov %r0, 2\nexit", "", true, false},
		{"all written", "stdw [%r10-16], 7\nstdw [%r10-8], 7\n" + printk + "mov %r0, 2\nexit", "", false, false},
		{"pointer on one path", ptrOnOnePath + printk + "mov %r0, 2\nexit", "reads uninitialised stack", false, false},
		{"pointer overwritten", "stxdw [%r10-16], %r1\nstdw [%r10-16], 0\n" + printk + "mov %r0, 2\nexit", "", true, false},
		{"callee frame", "call local f\nmov %r0, 2\nexit\nf:\n" + printk + "mov %r0, 0\nexit", "", false, true},
		{"callee writes all", "call local f\nmov %r0, 2\nexit\nf:\nstdw [%r10-16], 7\nstdw [%r10-8], 7\n" + printk + "mov %r0, 0\nexit", "", false, false},
		{"callee reads caller's", "mov %r1, %r10\nadd %r1, -16\ncall local f\nmov %r0, 2\nexit\nf:\nmov %r2, 16\ncall 6\nmov %r0, 0\nexit", "", true, false},
		{"callee pointer on one path", "call local f\nmov %r0, 2\nexit\nf:\n" + ptrOnOnePath + printk + "mov %r0, 0\nexit", "reads uninitialised stack", false, false},
		{"direct load", "ldxdw %r0, [%r10-16]\nmov %r0, 2\nexit", "", true, false},
		{"direct load, partly written", "stw [%r10-16], 7\nldxdw %r0, [%r10-16]\nexit", "", true, false},
		{"direct load, pointer on one path", ptrOnOnePath + "ldxb %r0, [%r10-13]\nexit", "pointer", false, false},
		{"direct load in callee", "call local f\nexit\nf:\nldxh %r0, [%r10-2]\nexit", "", false, true},
		{"variable offset load", "ldxw %r2, [%r1+12]\nand %r2, 8\nmov %r3, %r10\nadd %r3, %r2\nldxdw %r0, [%r3-16]\nexit", "", true, false},
		{"atomic", "mov %r1, 1\nlock add [%r10-8], %r1\nmov %r0, 2\nexit", "uninitialised stack read", false, false},
		{"no stack", "mov %r0, 2\nexit", "", false, false},
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
		case tt.reject == "" && (res.ZeroEntryFrame != tt.zero || res.ZeroCallFrames != tt.calls):
			// The run time clears frames only for programs with the
			// facts: without them, unwritten bytes would hold an
			// earlier run's or call's data.
			t.Errorf("%s: ZeroEntryFrame %v, ZeroCallFrames %v, want %v, %v", tt.name, res.ZeroEntryFrame, res.ZeroCallFrames, tt.zero, tt.calls)
		case tt.reject != "" && err == nil:
			t.Errorf("%s: accepted, want a rejection mentioning %q", tt.name, tt.reject)
		case tt.reject != "" && !strings.Contains(err.Error(), tt.reject):
			t.Errorf("%s: %v, want a message mentioning %q", tt.name, err, tt.reject)
		}
	}
}
