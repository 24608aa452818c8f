package amd64

import (
	"testing"

	"github.com/bpfhost/bpfhost/vm"
)

// TestRegionTableReuse checks that a checked run starts with the region
// table of the previous run of its context when the regions are the same,
// instead of leaving for Go at its first access to refill it, and not when
// they differ.
func TestRegionTableReuse(t *testing.T) {
	mem := make([]byte, 64)
	r := vm.RegionOf("m", mem, true)
	rc := &vm.RunContext{Regions: []vm.Region{r}, Value: mem}
	var c context
	if reuse(&c, rc) != nil || c.regTab != 0 {
		t.Fatal("a context that never ran has a table")
	}
	stateOf(rc).fillRegions(&c, rc.Regions)
	var next context
	if reuse(&next, rc) == nil || next.regTab != c.regTab || next.regEnd != c.regEnd {
		t.Errorf("same regions: table not reused (%#x..%#x, want %#x..%#x)", next.regTab, next.regEnd, c.regTab, c.regEnd)
	}
	rc.Regions[0].Writable = false
	next = context{}
	if reuse(&next, rc) != nil || next.regTab != 0 {
		t.Error("a region turned read-only: stale table reused")
	}
}
