package verifier

import (
	"os"
	"testing"
)

// TestPrecisionShapes: the shapes of issue 11 that need more than plain
// intervals (loops that end on equality, bpf_loop with a count from a
// global, a map chosen on a path, a header pointer or NULL, a packet
// offset read from the packet, paths that a later test tells apart, a
// strided offset, an array lookup that cannot fail) are accepted, each program of
// testdata/precision.o, and their unsafe variants in
// testdata/precision_unsafe.o are rejected where marked.
func TestPrecisionShapes(t *testing.T) {
	const path = "testdata/precision.o"
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, err := range verifyObject(t, path) {
		n++
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n < 17 {
		t.Errorf("%s: %d programs verified, want 17", path, n)
	}
	checkRejections(t, "testdata/precision_unsafe.c", "testdata/precision_unsafe.o")
}
