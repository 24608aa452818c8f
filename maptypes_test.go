package bpfhost_test

import (
	"testing"

	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestMapTypeNumbers checks that package maps, which keeps its own type
// numbers so that it depends on nothing of ours, agrees with platform/linux
// on the number and name of every type it implements.
func TestMapTypeNumbers(t *testing.T) {
	abi := linux.ABI()
	implemented := []maps.Type{maps.Hash, maps.Array, maps.ProgramArray, maps.PerfEventArray, maps.PerCPUHash,
		maps.PerCPUArray, maps.LRUHash, maps.LRUPerCPUHash, maps.LPMTrie, maps.ArrayOfMaps, maps.HashOfMaps,
		maps.Queue, maps.Stack, maps.RingBuf, maps.BloomFilter}
	for _, n := range implemented {
		if _, ok := abi.MapType(platform.MapType(n)); !ok {
			t.Errorf("maps implements type %d (%s), which platform/linux does not know", n, n)
			continue
		}
		if got := abi.MapTypeName(platform.MapType(n)); got != n.String() {
			t.Errorf("type %d: maps calls it %q, platform/linux %q", n, n, got)
		}
	}
}
