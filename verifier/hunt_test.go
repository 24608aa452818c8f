package verifier

import (
	"strings"
	"testing"
)

// huntGaps are the programs of testdata/hunt.o and testdata/hunt-v1.o (all
// accepted by Linux) that bpfhost still rejects, by object and program,
// each with a part of its diagnostic. The list is a ratchet: a program that
// becomes accepted must leave it.
var huntGaps = map[string]string{}

// TestHuntGaps: each program of testdata/hunt.o and testdata/hunt-v1.o is
// accepted unless huntGaps lists it, and then rejected with the listed
// diagnostic.
func TestHuntGaps(t *testing.T) {
	for _, obj := range []string{"hunt.o", "hunt-v1.o"} {
		results := verifyObject(t, "testdata/"+obj)
		if len(results) != 8 {
			t.Errorf("%d programs in testdata/%s, want 8", len(results), obj)
		}
		for name, err := range results {
			key := obj + " " + name
			want, gap := huntGaps[key]
			switch {
			case !gap && err != nil:
				t.Errorf("%s: rejected: %v", key, err)
			case gap && err == nil:
				t.Errorf("%s: accepted now: remove it from huntGaps", key)
			case gap && !strings.Contains(err.Error(), want):
				t.Errorf("%s: rejected with %v, want %q", key, err, want)
			}
		}
	}
}
