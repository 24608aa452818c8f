package maps

import "fmt"

// Type is a map type, numbered as Linux's enum bpf_map_type so that objects
// built against libbpf's headers carry the right numbers.
type Type uint32

// Map types. Only the ones New accepts are listed; the others are rejected
// with ErrNotSupported.
const (
	Unspecified    Type = 0
	Hash           Type = 1  // BPF_MAP_TYPE_HASH
	Array          Type = 2  // BPF_MAP_TYPE_ARRAY
	ProgramArray   Type = 3  // BPF_MAP_TYPE_PROG_ARRAY
	PerfEventArray Type = 4  // BPF_MAP_TYPE_PERF_EVENT_ARRAY
	PerCPUHash     Type = 5  // BPF_MAP_TYPE_PERCPU_HASH
	PerCPUArray    Type = 6  // BPF_MAP_TYPE_PERCPU_ARRAY
	LRUHash        Type = 9  // BPF_MAP_TYPE_LRU_HASH
	LRUPerCPUHash  Type = 10 // BPF_MAP_TYPE_LRU_PERCPU_HASH
	LPMTrie        Type = 11 // BPF_MAP_TYPE_LPM_TRIE
	ArrayOfMaps    Type = 12 // BPF_MAP_TYPE_ARRAY_OF_MAPS
	HashOfMaps     Type = 13 // BPF_MAP_TYPE_HASH_OF_MAPS
	Queue          Type = 22 // BPF_MAP_TYPE_QUEUE
	Stack          Type = 23 // BPF_MAP_TYPE_STACK
	RingBuf        Type = 27 // BPF_MAP_TYPE_RINGBUF
	BloomFilter    Type = 30 // BPF_MAP_TYPE_BLOOM_FILTER
)

var typeNames = map[Type]string{
	Unspecified:    "unspec",
	Hash:           "hash",
	Array:          "array",
	ProgramArray:   "prog_array",
	PerfEventArray: "perf_event_array",
	PerCPUHash:     "percpu_hash",
	PerCPUArray:    "percpu_array",
	7:              "stack_trace",
	8:              "cgroup_array",
	LRUHash:        "lru_hash",
	LRUPerCPUHash:  "lru_percpu_hash",
	LPMTrie:        "lpm_trie",
	ArrayOfMaps:    "array_of_maps",
	HashOfMaps:     "hash_of_maps",
	DevMap:         "devmap",
	15:             "sockmap",
	CPUMap:         "cpumap",
	17:             "xskmap",
	18:             "sockhash",
	19:             "cgroup_storage",
	20:             "reuseport_sockarray",
	21:             "percpu_cgroup_storage",
	Queue:          "queue",
	Stack:          "stack",
	24:             "sk_storage",
	DevMapHash:     "devmap_hash",
	26:             "struct_ops",
	RingBuf:        "ringbuf",
	28:             "inode_storage",
	29:             "task_storage",
	BloomFilter:    "bloom_filter",
	31:             "user_ringbuf",
	32:             "cgrp_storage",
	33:             "arena",
}

// String returns the name bpftool uses for the type ("percpu_hash").
func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// PerCPU reports whether the type keeps one value per execution slot.
func (t Type) PerCPU() bool {
	return t == PerCPUHash || t == PerCPUArray || t == LRUPerCPUHash
}

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
