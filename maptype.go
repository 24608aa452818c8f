package bpfhost

import (
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// MapType is a map type, numbered as Linux's enum bpf_map_type. The numbers
// and names are platform/linux's table; the constants below are the types
// bpfhost implements.
type MapType uint32

// The map types bpfhost implements.
const (
	MapHash           = MapType(linux.MapHash)
	MapArray          = MapType(linux.MapArray)
	MapProgArray      = MapType(linux.MapProgArray)
	MapPerfEventArray = MapType(linux.MapPerfEventArray)
	MapPerCPUHash     = MapType(linux.MapPercpuHash)
	MapPerCPUArray    = MapType(linux.MapPercpuArray)
	MapLRUHash        = MapType(linux.MapLRUHash)
	MapLRUPerCPUHash  = MapType(linux.MapLRUPercpuHash)
	MapLPMTrie        = MapType(linux.MapLPMTrie)
	MapArrayOfMaps    = MapType(linux.MapArrayOfMaps)
	MapHashOfMaps     = MapType(linux.MapHashOfMaps)
	MapQueue          = MapType(linux.MapQueue)
	MapStack          = MapType(linux.MapStack)
	MapRingBuf        = MapType(linux.MapRingBuf)
	MapBloomFilter    = MapType(linux.MapBloomFilter)
	MapDevMap         = MapType(linux.MapDevMap)
	MapCPUMap         = MapType(linux.MapCPUMap)
	MapDevMapHash     = MapType(linux.MapDevMapHash)
)

// String returns the name libbpf and bpftool use ("percpu_hash"), or
// "map_type#N" for a number Linux does not define.
func (t MapType) String() string { return linux.ABI().MapTypeName(platform.MapType(t)) }

// PerCPU reports whether maps of the type keep one value per execution
// slot.
func (t MapType) PerCPU() bool {
	info, ok := linux.ABI().MapType(platform.MapType(t))
	return ok && info.PerCPU
}
