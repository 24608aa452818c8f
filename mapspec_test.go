package bpfhost

import (
	"math"
	"testing"
)

// TestMapMemorySaturates: an estimate beyond an int64 (package maps
// saturates at 1<<63, plus the buckets) is math.MaxInt64, never the
// negative number a plain conversion gives, which a budget would take as
// a credit.
func TestMapMemorySaturates(t *testing.T) {
	for _, ms := range []*MapSpec{
		{Name: "huge", Type: uint32(MapPerCPUHash), KeySize: 4, ValueSize: math.MaxUint32, MaxEntries: math.MaxUint32},
		{Name: "huge_array", Type: uint32(MapPerCPUArray), KeySize: 4, ValueSize: math.MaxUint32, MaxEntries: math.MaxUint32},
	} {
		if got := MapMemory(ms, 4096); got != math.MaxInt64 {
			t.Errorf("%s: MapMemory = %d, want math.MaxInt64", ms.Name, got)
		}
	}
	if got, want := MapMemory(&MapSpec{Name: "small", Type: uint32(MapArray), KeySize: 4, ValueSize: 8, MaxEntries: 16}, 1), int64(16*8); got != want {
		t.Errorf("small array: MapMemory = %d, want %d", got, want)
	}
}
