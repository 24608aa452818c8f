package linux

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform"
)

// testABI builds the ABI and fails the test, rather than panicking like
// ABI, if the tables are inconsistent.
func testABI(t *testing.T) *platform.ABI {
	t.Helper()
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNew(t *testing.T) {
	a := testABI(t)
	if a.Name != "linux" {
		t.Errorf("name %q", a.Name)
	}
	if ABI() != ABI() {
		t.Error("ABI() is not shared")
	}
	fields := 0
	for _, d := range allDescriptors(a) {
		fields += len(d.Fields)
	}
	types := map[ProgramType]bool{}
	for _, p := range a.Programs() {
		types[p.Type] = true
	}
	t.Logf("%d program types in %d variants, %d sections, %d helpers, %d map types, %d context descriptors with %d fields",
		len(types), len(a.Programs()), len(a.Sections()), len(a.Helpers()), len(a.MapTypes()), len(allDescriptors(a)), fields)
}
