package linux

import "github.com/bpfhost/bpfhost/platform"

// Map types, numbered as enum bpf_map_type.
const (
	MapUnspec              platform.MapType = 0
	MapHash                platform.MapType = 1
	MapArray               platform.MapType = 2
	MapProgArray           platform.MapType = 3
	MapPerfEventArray      platform.MapType = 4
	MapPercpuHash          platform.MapType = 5
	MapPercpuArray         platform.MapType = 6
	MapStackTrace          platform.MapType = 7
	MapCGroupArray         platform.MapType = 8
	MapLRUHash             platform.MapType = 9
	MapLRUPercpuHash       platform.MapType = 10
	MapLPMTrie             platform.MapType = 11
	MapArrayOfMaps         platform.MapType = 12
	MapHashOfMaps          platform.MapType = 13
	MapDevMap              platform.MapType = 14
	MapSockMap             platform.MapType = 15
	MapCPUMap              platform.MapType = 16
	MapXSKMap              platform.MapType = 17
	MapSockHash            platform.MapType = 18
	MapCGroupStorage       platform.MapType = 19
	MapReuseportSockArray  platform.MapType = 20
	MapPercpuCGroupStorage platform.MapType = 21
	MapQueue               platform.MapType = 22
	MapStack               platform.MapType = 23
	MapSkStorage           platform.MapType = 24
	MapDevMapHash          platform.MapType = 25
	MapStructOps           platform.MapType = 26
	MapRingBuf             platform.MapType = 27
	MapInodeStorage        platform.MapType = 28
	MapTaskStorage         platform.MapType = 29
	MapBloomFilter         platform.MapType = 30
	MapUserRingBuf         platform.MapType = 31
	MapCGrpStorage         platform.MapType = 32
	MapArena               platform.MapType = 33
)

// Map operation groups shared by several types.
const (
	hashOps  = platform.MapLookup | platform.MapUpdate | platform.MapDelete | platform.MapForEach
	arrayOps = platform.MapLookup | platform.MapUpdate | platform.MapDelete | platform.MapForEach
)

// Sizes shared by several types.
var (
	zero     = []int{0}
	four     = []int{4}
	fourEigh = []int{4, 8}
)

// mapTypes describes every map type in enum bpf_map_type. The allowed
// operations follow the Linux verifier's check_map_func_compatibility;
// sizes follow the map types' alloc_check functions. Deleting from an array
// passes the verifier but fails at run time with -EINVAL, as in Linux.
var mapTypes = []*platform.MapTypeInfo{
	{Type: MapUnspec, Name: "unspec", Doc: "not a creatable map type"},
	{Type: MapHash, Name: "hash", Ops: hashOps | platform.MapTimer, Lookup: platform.LookupValue},
	{Type: MapArray, Name: "array", Ops: arrayOps | platform.MapTimer, Lookup: platform.LookupValue, KeySizes: four},
	{Type: MapProgArray, Name: "prog_array", Ops: platform.MapTailCall, KeySizes: four, ValueSizes: four,
		Doc: "values are program file descriptors; programs only tail-call through it"},
	{Type: MapPerfEventArray, Name: "perf_event_array", Ops: platform.MapPerfOutput, KeySizes: four, ValueSizes: four},
	{Type: MapPercpuHash, Name: "percpu_hash", Ops: hashOps | platform.MapLookupPercpu, Lookup: platform.LookupValue, PerCPU: true},
	{Type: MapPercpuArray, Name: "percpu_array", Ops: arrayOps | platform.MapLookupPercpu, Lookup: platform.LookupValue, KeySizes: four, PerCPU: true},
	{Type: MapStackTrace, Name: "stack_trace", Ops: platform.MapStackID, KeySizes: four},
	{Type: MapCGroupArray, Name: "cgroup_array", Ops: platform.MapCgroupCheck, KeySizes: four, ValueSizes: four},
	{Type: MapLRUHash, Name: "lru_hash", Ops: hashOps | platform.MapTimer, Lookup: platform.LookupValue},
	{Type: MapLRUPercpuHash, Name: "lru_percpu_hash", Ops: hashOps | platform.MapLookupPercpu, Lookup: platform.LookupValue, PerCPU: true},
	{Type: MapLPMTrie, Name: "lpm_trie", Ops: platform.MapLookup | platform.MapUpdate | platform.MapDelete, Lookup: platform.LookupValue,
		Doc: "keys are struct bpf_lpm_trie_key: a u32 prefix length then the data; BPF_F_NO_PREALLOC is required"},
	{Type: MapArrayOfMaps, Name: "array_of_maps", Ops: platform.MapLookup, Lookup: platform.LookupInnerMap, KeySizes: four, ValueSizes: four},
	{Type: MapHashOfMaps, Name: "hash_of_maps", Ops: platform.MapLookup, Lookup: platform.LookupInnerMap, ValueSizes: four},
	{Type: MapDevMap, Name: "devmap", Ops: platform.MapRedirect | platform.MapLookup, Lookup: platform.LookupValue, KeySizes: four, ValueSizes: fourEigh},
	{Type: MapSockMap, Name: "sockmap", Ops: platform.MapRedirect | platform.MapLookup | platform.MapUpdate | platform.MapDelete | platform.MapSockUpdate | platform.MapSelectReuseport,
		Lookup: platform.LookupSocket, KeySizes: four, ValueSizes: fourEigh},
	{Type: MapCPUMap, Name: "cpumap", Ops: platform.MapRedirect, KeySizes: four, ValueSizes: fourEigh},
	{Type: MapXSKMap, Name: "xskmap", Ops: platform.MapRedirect | platform.MapLookup, Lookup: platform.LookupXDPSock, LookupStruct: xdpSock, KeySizes: four, ValueSizes: four},
	{Type: MapSockHash, Name: "sockhash", Ops: platform.MapRedirect | platform.MapLookup | platform.MapUpdate | platform.MapDelete | platform.MapSockUpdate | platform.MapSelectReuseport,
		Lookup: platform.LookupSocket, ValueSizes: fourEigh},
	{Type: MapCGroupStorage, Name: "cgroup_storage", Ops: platform.MapLocalStorage, KeySizes: []int{8, 16},
		Doc: "key is a cgroup inode id (8 bytes) or struct bpf_cgroup_storage_key (16)"},
	{Type: MapReuseportSockArray, Name: "reuseport_sockarray", Ops: platform.MapSelectReuseport, KeySizes: four, ValueSizes: fourEigh},
	{Type: MapPercpuCGroupStorage, Name: "percpu_cgroup_storage", Ops: platform.MapLocalStorage, KeySizes: []int{8, 16}, PerCPU: true},
	{Type: MapQueue, Name: "queue", Ops: platform.MapPush | platform.MapPop | platform.MapPeek, KeySizes: zero},
	{Type: MapStack, Name: "stack", Ops: platform.MapPush | platform.MapPop | platform.MapPeek, KeySizes: zero},
	{Type: MapSkStorage, Name: "sk_storage", Ops: platform.MapObjStorage, KeySizes: four, Doc: "BTF-described values; BPF_F_NO_PREALLOC is required"},
	{Type: MapDevMapHash, Name: "devmap_hash", Ops: platform.MapRedirect | platform.MapLookup, Lookup: platform.LookupValue, KeySizes: four, ValueSizes: fourEigh},
	{Type: MapStructOps, Name: "struct_ops", KeySizes: four, Doc: "holds kernel struct_ops implementations; not usable from programs"},
	{Type: MapRingBuf, Name: "ringbuf", Ops: platform.MapRingbuf, KeySizes: zero, ValueSizes: zero,
		Doc: "max_entries is the buffer size: a power of two and a multiple of the page size"},
	{Type: MapInodeStorage, Name: "inode_storage", Ops: platform.MapObjStorage, KeySizes: four},
	{Type: MapTaskStorage, Name: "task_storage", Ops: platform.MapObjStorage, KeySizes: four},
	{Type: MapBloomFilter, Name: "bloom_filter", Ops: platform.MapPush | platform.MapPeek, KeySizes: zero,
		Doc: "push adds a value, peek tests membership; map_extra holds the number of hash functions"},
	{Type: MapUserRingBuf, Name: "user_ringbuf", Ops: platform.MapUserRingbufDrain, KeySizes: zero, ValueSizes: zero},
	{Type: MapCGrpStorage, Name: "cgrp_storage", Ops: platform.MapObjStorage, KeySizes: four},
	{Type: MapArena, Name: "arena", KeySizes: zero, ValueSizes: zero, Doc: "shared memory used through kfuncs and address-space casts; not supported by bpfhost"},
}
