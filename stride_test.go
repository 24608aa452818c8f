package bpfhost

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// strideObject's programs step a pointer through ports[], a const volatile
// array in .rodata, for len trips (or a length from the frame): the
// verifier bounds the pointer by the loop's trip count
// (verifier/strideptr.go).
const strideObject = "testdata/stride/stride.o"

// strideSpec is strideObject with len = n and ports = 10, 20, 30, ...
func strideSpec(t *testing.T, n uint32) *CollectionSpec {
	t.Helper()
	spec, err := LoadCollectionSpec(strideObject)
	if err != nil {
		t.Fatal(err)
	}
	var ports [8]uint32
	for i := range ports {
		ports[i] = uint32(10 * (i + 1))
	}
	if err := spec.SetConstant("ports", ports); err != nil {
		t.Fatal(err)
	}
	if err := spec.SetConstant("len", n); err != nil {
		t.Fatal(err)
	}
	return spec
}

// strideVerdicts are the verdicts on strideObject's programs by len:
// bpfhost's ("" accepted, else a part of the refusal) and Linux's, which
// TestStrideKernel checks. The refused rows are the unsafe variants: the
// loop running one element past the array, a stride that leaves it, a
// length nothing bounds.
var strideVerdicts = []struct {
	prog    string
	n       uint32
	bpfhost string
	kernel  bool
}{
	{"scan_capped", 0, "", true},
	{"scan_past", 0, "", true},
	{"scan_past", 3, "", true},
	{"scan_past", 7, "", true},
	{"scan_past", 8, "outside the 36-byte map .rodata value", false},
	{"scan_even", 1, "", true},
	{"scan_even", 4, "", true},
	{"scan_even", 5, "outside the 36-byte map .rodata value", false},
	{"scan_unbounded", 0, "loop may not terminate", false},
}

// strideDrops says whether strideObject's program drops a frame whose
// first word is w and second n, when len is l and ports 10, 20, 30, ...
func strideDrops(prog string, l uint32, w, n uint32) bool {
	if w == 0 || w%10 != 0 {
		return false
	}
	i := w/10 - 1 // the index of w in ports
	switch prog {
	case "scan_capped":
		return i < n && i < 8
	case "scan_past":
		return i <= l
	case "scan_even":
		return i%2 == 0 && i/2 < l
	}
	return false
}

// TestStrideConstants: each program is accepted only for the lengths that
// keep its pointer inside ports[]; each accepted one drops exactly the
// words its loop reaches.
func TestStrideConstants(t *testing.T) {
	for _, tc := range strideVerdicts {
		spec := strideSpec(t, tc.n)
		c, err := NewCollection(spec, &CollectionOptions{Programs: []string{tc.prog}})
		if tc.bpfhost != "" {
			var ve *VerifierError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.bpfhost) {
				t.Errorf("%s, len %d: %v, want a verifier refusal about %s", tc.prog, tc.n, err, tc.bpfhost)
			}
			if c != nil {
				c.Close()
			}
			continue
		}
		if err != nil {
			t.Errorf("%s, len %d: %v, want accepted", tc.prog, tc.n, err)
			continue
		}
		for w := uint32(0); w <= 90; w += 5 {
			for _, n := range []uint32{0, 3, 8, 100} {
				frame := make([]byte, 64)
				binary.NativeEndian.PutUint32(frame, w)
				binary.NativeEndian.PutUint32(frame[4:], n)
				want := uint32(2) // XDP_PASS
				if strideDrops(tc.prog, tc.n, w, n) {
					want = 1 // XDP_DROP
				}
				if got, err := c.Programs[tc.prog].Run(&RunOptions{Data: frame}); err != nil || got != want {
					t.Errorf("%s, len %d, frame %d %d: %d, %v; want %d", tc.prog, tc.n, w, n, got, err, want)
				}
			}
		}
		c.Close()
	}
}
