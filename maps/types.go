package maps

import (
	"fmt"

	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// Type is a map type, numbered as Linux's enum bpf_map_type so that objects
// built against libbpf's headers carry the right numbers. The numbers and
// names are platform/linux's table, the one place they are written down.
type Type uint32

// Map types. Only the ones New accepts are listed; the others are rejected
// with ErrNotSupported.
const (
	Unspecified    = Type(linux.MapUnspec)
	Hash           = Type(linux.MapHash)
	Array          = Type(linux.MapArray)
	ProgramArray   = Type(linux.MapProgArray)
	PerfEventArray = Type(linux.MapPerfEventArray)
	PerCPUHash     = Type(linux.MapPercpuHash)
	PerCPUArray    = Type(linux.MapPercpuArray)
	LRUHash        = Type(linux.MapLRUHash)
	LRUPerCPUHash  = Type(linux.MapLRUPercpuHash)
	LPMTrie        = Type(linux.MapLPMTrie)
	ArrayOfMaps    = Type(linux.MapArrayOfMaps)
	HashOfMaps     = Type(linux.MapHashOfMaps)
	Queue          = Type(linux.MapQueue)
	Stack          = Type(linux.MapStack)
	RingBuf        = Type(linux.MapRingBuf)
	BloomFilter    = Type(linux.MapBloomFilter)
)

// info returns the type's row of platform/linux's table.
func (t Type) info() (*platform.MapTypeInfo, bool) {
	return linux.ABI().MapType(platform.MapType(t))
}

// String returns the name bpftool uses for the type ("percpu_hash").
func (t Type) String() string {
	if info, ok := t.info(); ok {
		return info.Name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// PerCPU reports whether the type keeps one value per execution slot.
func (t Type) PerCPU() bool { return t < Type(len(perCPUTypes)) && perCPUTypes[t] }

// perCPUTypes caches the table's PerCPU column: helpers ask on every call.
var perCPUTypes = func() (set [64]bool) {
	for _, mt := range linux.ABI().MapTypes() {
		if mt.PerCPU && mt.Type < platform.MapType(len(set)) {
			set[mt.Type] = true
		}
	}
	return set
}()

// Map creation flags (Spec.Flags), Linux's BPF_F_* values.
const (
	FlagNoPrealloc   uint32 = 1 << 0  // BPF_F_NO_PREALLOC
	FlagNoCommonLRU  uint32 = 1 << 1  // BPF_F_NO_COMMON_LRU
	FlagNUMANode     uint32 = 1 << 2  // BPF_F_NUMA_NODE
	FlagRdOnly       uint32 = 1 << 3  // BPF_F_RDONLY: user space may not write
	FlagWrOnly       uint32 = 1 << 4  // BPF_F_WRONLY: user space may not read
	FlagZeroSeed     uint32 = 1 << 6  // BPF_F_ZERO_SEED
	FlagRdOnlyProg   uint32 = 1 << 7  // BPF_F_RDONLY_PROG: programs may not write
	FlagWrOnlyProg   uint32 = 1 << 8  // BPF_F_WRONLY_PROG: programs may not read
	FlagMmapable     uint32 = 1 << 10 // BPF_F_MMAPABLE
	FlagPreserveElem uint32 = 1 << 11 // BPF_F_PRESERVE_ELEMS
	FlagInnerMap     uint32 = 1 << 12 // BPF_F_INNER_MAP: inner maps may differ in max_entries

	flagAccessMask = FlagRdOnly | FlagWrOnly | FlagRdOnlyProg | FlagWrOnlyProg
)

// UpdateFlags select how Update treats an existing or missing key.
type UpdateFlags uint64

// Update flags, Linux's values.
const (
	UpdateAny     UpdateFlags = 0 // BPF_ANY: create or replace
	UpdateNoExist UpdateFlags = 1 // BPF_NOEXIST: create only
	UpdateExist   UpdateFlags = 2 // BPF_EXIST: replace only
	UpdateLock    UpdateFlags = 4 // BPF_F_LOCK: copy under the value's bpf_spin_lock
)

// Flags of bpf_ringbuf_output/submit/discard and bpf_ringbuf_query.
const (
	RingBufNoWakeup    uint64 = 1 << 0 // BPF_RB_NO_WAKEUP
	RingBufForceWakeup uint64 = 1 << 1 // BPF_RB_FORCE_WAKEUP

	RingBufAvailData uint64 = 0 // BPF_RB_AVAIL_DATA
	RingBufRingSize  uint64 = 1 // BPF_RB_RING_SIZE
	RingBufConsPos   uint64 = 2 // BPF_RB_CONS_POS
	RingBufProdPos   uint64 = 3 // BPF_RB_PROD_POS
)

// Flags of bpf_perf_event_output.
const (
	PerfIndexMask  uint64 = 0xffffffff // BPF_F_INDEX_MASK
	PerfCurrentCPU uint64 = 0xffffffff // BPF_F_CURRENT_CPU
	// PerfCtxLenMask selects the number of context bytes to append
	// (BPF_F_CTXLEN_MASK); the helper reads them, Output only appends.
	PerfCtxLenMask uint64 = 0xfffff << 32
)
