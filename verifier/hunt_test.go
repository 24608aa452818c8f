package verifier

import (
	"strings"
	"testing"
)

// huntObjects are the objects of the real-world hunts (issue 11), each with
// its number of programs, all accepted by Linux (TestHuntKernel).
var huntObjects = map[string]int{"hunt.o": 8, "hunt-v1.o": 8, "hunt2.o": 2}

// huntGaps are the programs of huntObjects that bpfhost still rejects, by
// object and program, each with a part of its diagnostic. The list is a
// ratchet: a program that becomes accepted must leave it.
var huntGaps = map[string]string{}

// TestHuntGaps: each program of huntObjects is accepted unless huntGaps
// lists it, and then rejected with the listed diagnostic.
func TestHuntGaps(t *testing.T) {
	for obj, n := range huntObjects {
		results := verifyObject(t, "testdata/"+obj)
		if len(results) != n {
			t.Errorf("%d programs in testdata/%s, want %d", len(results), obj, n)
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
	for key := range huntGaps {
		obj, _, _ := strings.Cut(key, " ")
		if _, ok := huntObjects[obj]; !ok {
			t.Errorf("huntGaps lists %s, whose object is not in huntObjects", key)
		}
	}
}
