package bpfhost_test

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAgreementTailSub runs testdata/tailsub (tail calls made in
// subprograms: hit, miss, nested, the 33-call limit reached from inside
// subprograms) in the Linux kernel and in bpfhost, and compares every
// retval and the final global data.
func TestAgreementTailSub(t *testing.T) {
	var pkts [][]byte
	for _, in := range tailSubInputs {
		pkt := make([]byte, 64)
		pkt[0], pkt[1] = in.slot, in.how
		pkts = append(pkts, pkt)
	}
	for _, program := range []string{"entry", "recur", "spent"} {
		t.Run(program, func(t *testing.T) {
			// Before 6.10 ("bpf, x64: Fix tailcall hierarchy") a caller
			// did not see the tail calls its subprograms had made, and
			// spent's own tail call was taken.
			if program == "spent" && !kernelAtLeast(t, 6, 10) {
				t.Skip("the kernel counts tail calls per frame (before 6.10)")
			}
			compareOutcomes(t, agreement{object: "testdata/tailsub/tailsub.o", program: program, inputs: pkts, skipMaps: []string{"jt"}})
		})
	}
}

// kernelAtLeast reports whether the running kernel is major.minor or later.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		t.Fatalf("kernel release %q: %v", u.Release, err)
	}
	return ma > major || ma == major && mi >= minor
}
