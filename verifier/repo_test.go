package verifier

import (
	"path/filepath"
	"sort"
	"testing"
)

// TestRepoObjects verifies every program of the repository's objects: all
// of them pass the Linux verifier, so all must pass this one.
func TestRepoObjects(t *testing.T) {
	var paths []string
	for _, g := range []string{"../examples/*.o", "../testdata/agreement/*.o", "../bench/progs/*.o"} {
		m, _ := filepath.Glob(g)
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Fatal("no objects: the repository's committed objects are missing")
	}
	sort.Strings(paths)
	for _, p := range paths {
		res := verifyObject(t, p)
		for name, err := range res {
			if err != nil {
				t.Errorf("%s: %s: %v", filepath.Base(p), name, err)
			}
		}
	}
}
