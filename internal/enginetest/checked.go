package enginetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/vm"
)

// faults are checked-mode accesses outside the run's memory; r1 points to
// a 16-byte read-only region.
var faults = []struct {
	name, src string
	pc        int  // the instruction the error names
	write     bool // the access error's direction
}{
	{"below the frame", "ldxdw %r0, [%r10-520]", 0, false},
	{"at the top", "ldxb %r0, [%r10]", 0, false},
	{"straddles the top", "ldxdw %r0, [%r10-4]", 0, false},
	{"null", "mov %r1, 0\nldxw %r0, [%r1]", 1, false},
	{"wild store", "lddw %r1, 0x1000\nstw [%r1], 1", 2, true},
	{"wild high address", "mov %r1, -1\nldxb %r0, [%r1]", 1, false},
	{"wraps around", "mov %r1, -2\nldxw %r0, [%r1]", 1, false},
	{"read-only region", "stb [%r1], 1", 0, true},
	{"read-only region stx", "stxdw [%r1], %r1", 0, true},
	{"past the region", "ldxb %r0, [%r1+16]", 0, false},
	{"misaligned atomic", "mov %r1, 1\nlock add [%r10-7], %r1", 1, true},
	{"atomic on read-only region", "mov %r2, 1\nlock fetch add [%r1], %r2", 1, true},
	{"atomic below the frame", "mov %r2, 1\nlock xchg [%r10-520], %r2", 1, true},
	{"callee reads below its frame", "call local f\nexit\nf:\nldxdw %r0, [%r10-520]\nexit", 2, false},
	{"caller's dead frame after return", "call local f\nldxdw %r0, [%r2]\nexit\nf:\nmov %r2, %r10\nadd %r2, -8\nexit", 1, false},
}

// validAccesses run in checked mode with r1 pointing to a 16-byte read-only
// region and r2 to a 64-byte writable one.
var validAccesses = []struct {
	src  string
	want uint64
}{
	{"ldxb %r0, [%r1+15]\nexit", 0},
	{"stdw [%r2+56], 7\nmov %r3, 1\nlock fetch add [%r2+56], %r3\nldxdw %r0, [%r2+56]\nexit", 8},
	{"stdw [%r10-8], 5\nmov %r1, %r10\ncall local f\nexit\nf:\nldxdw %r0, [%r1-8]\nexit", 5},
	{"mov %r3, %r10\nadd %r3, -512\nstdw [%r3], 1\nldxdw %r0, [%r3]\nexit", 1},
}

// CheckedFaults checks that checked runs stop on bad accesses with an
// *vm.ExecError naming the instruction and wrapping an *vm.AccessError
// (misaligned atomics: an error saying so), and never touch the memory;
// and that valid accesses outside the stack and in callers' frames succeed.
func CheckedFaults(t *testing.T, e vm.Engine) {
	ro, rw := heapBytes(16), heapBytes(64)
	for _, tt := range faults {
		rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("ro", ro, false)}, Value: ro}
		rc.Args[0] = uint64(rc.Regions[0].Start)
		_, err := compile(t, e, tt.src+"\nexit", vm.Checked, nil).Run(rc)
		var ee *vm.ExecError
		var ae *vm.AccessError
		switch {
		case !errors.As(err, &ee) || ee.PC != tt.pc:
			t.Errorf("%s: err = %v, want an error at instruction %d", tt.name, err, tt.pc)
		case errors.As(err, &ae):
			if ae.Write != tt.write {
				t.Errorf("%s: %v: write = %v, want %v", tt.name, err, ae.Write, tt.write)
			}
		case !strings.Contains(err.Error(), "misaligned"):
			t.Errorf("%s: err = %v, want an access error", tt.name, err)
		}
	}
	if string(ro) != string(make([]byte, len(ro))) {
		t.Errorf("faulting runs wrote the read-only region: %x", ro)
	}
	for _, tt := range validAccesses {
		rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("ro", ro, false), vm.RegionOf("rw", rw, true)}, Value: [][]byte{ro, rw}}
		rc.Args[0], rc.Args[1] = uint64(rc.Regions[0].Start), uint64(rc.Regions[1].Start)
		if got, err := compile(t, e, tt.src, vm.Checked, nil).Run(rc); err != nil || got != tt.want {
			t.Errorf("%q: r0 = %d, %v; want %d", tt.src, got, err, tt.want)
		}
	}
}
