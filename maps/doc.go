// Package maps implements eBPF maps with Linux semantics: the same type
// numbers, size rules, flags, error numbers and iteration order, so that
// programs built against libbpf's headers and user space written for Linux
// behave the same.
//
// # Creating
//
// A Spec is plain data (name, type, key and value size, max entries, flags,
// map_extra, inner map template). New(spec, slots) validates it as Linux's
// map_create does and preallocates everything: errors name the map
// (`map "counts": key size 0, want > 0`) and wrap a sentinel (ErrInvalid,
// ErrFull, ...). A map never takes more than MaxMemory bytes.
//
// slots is the number of execution slots of the runtime, its "CPUs"
// (DESIGN.md #3). A run holds one slot from entry to exit; per-CPU maps keep
// one value per slot and programs see the value of the slot they run on.
// User space sees all of them, laid out as Linux does: each value rounded
// up to 8 bytes, slot after slot.
//
// # Two sides
//
// Every map is a Map: the user-space side, used by the Go API and the CLI.
// It copies keys and values, honours BPF_F_RDONLY/BPF_F_WRONLY and Freeze,
// and returns errors that wrap both a sentinel and the Linux Errno:
//
//	err := m.Update(key, value, maps.UpdateNoExist)
//	errors.Is(err, maps.ErrKeyExist) // true
//	maps.ErrnoOf(err)                // maps.EEXIST
//
// The program side is what helpers call, through interfaces by capability:
//
//   - ElemMap (arrays, hash maps, LPM trie, devmap/cpumap, xskmap, whose
//     lookups find nothing): LookupPtr, UpdateElem, DeleteElem, ForEach.
//     PerCPUMap adds LookupPercpuElem.
//   - QueueMap (queue, stack, bloom filter): PushElem, PopElem, PeekElem.
//   - HandleMap (prog_array, array_of_maps, hash_of_maps): Handle, and
//     SetHandle for the runtime to store programs and inner maps.
//   - *RingBufMap: Reserve, Submit, Discard, Output, Query; Read consumes.
//   - *PerfEventArrayMap: Output; NewReader consumes.
//
// Program-side methods take keys and values as slices that alias program
// memory, do not allocate, and return 0 or -errno as helpers do. They are
// safe to call from many goroutines at once.
//
// # Memory
//
// Programs get raw pointers to values (LookupPtr), so values live in
// 8-byte aligned slabs allocated once, which Go's collector never moves,
// and stay valid while the map is reachable. Deleted hash elements go to a
// free list and are reused, as in Linux's preallocated hash maps: a program
// still holding a deleted value's pointer reads valid memory, possibly of a
// newer element. Copies in and out of values use 64-bit atomic words, so
// user-space reads race neither with each other nor with programs' atomic
// instructions. ArrayMap.ValuePtr gives the fixed address of global data
// (.data, .rodata, .bss are single-entry arrays; FlagRdOnlyProg makes
// program-side writes fail with -EPERM).
//
// # Concurrency
//
// Array lookups are lock-free. Hash maps lock one of up to 256 stripes of
// buckets (readers share it); the LPM trie has one reader-writer lock;
// queue, stack and the producers of a ring buffer one mutex; bloom filters
// use atomic bit operations.
//
// # Differences from Linux
//
//   - All hash elements are preallocated, also with BPF_F_NO_PREALLOC.
//   - Updating an existing hash key writes its value in place instead of
//     swapping in a new element (so an LRU update never evicts).
//   - LRU eviction is second-chance: eviction takes the least recently
//     inserted or updated element, skipping (once) those a program looked up
//     since. Linux's LRU is also an approximation (per-CPU lists, reference
//     bits); BPF_F_NO_COMMON_LRU is accepted and uses the common list.
//   - Ring buffer page offsets in record headers count from the data area;
//     ring sizes must be multiples of PageSize (4096) on every host.
//   - A perf event array's entries are buffers a PerfReader attaches, not
//     perf events; samples carry no perf header.
package maps
