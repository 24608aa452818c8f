// Package bpfhost loads eBPF objects compiled for Linux and runs their
// programs in user space, with Linux's semantics and no kernel support.
//
// The API follows cilium/ebpf's: LoadCollectionSpec parses an ELF object into
// a CollectionSpec (plain data: inspect it, change const volatile values with
// SetConstant), NewCollection creates its maps (freezing .rodata once its
// constants are written, as libbpf does, so that the verifier may read them
// as constants) and prepares its programs, and
// Program.Run executes a program the way BPF_PROG_TEST_RUN does: XDP with
// Linux's headroom, socket filters and TC classifiers with an __sk_buff, and
// bpfhost's generic type (r1 = buffer, r2 = length) for embedding. Maps are
// shared between programs and user space (Map.Lookup, Update, Iterate...),
// safely from many goroutines.
//
// Every program goes through one pipeline (DESIGN.md #7): maps are created,
// map and global-data references patched to host addresses, context accesses
// rewritten from Linux's layout to the host's (DESIGN.md #1), and the program
// compiled by an engine. Runs hold an execution slot (DESIGN.md #3) for
// per-CPU maps. The verifier runs before the rewrite; programs it accepts run
// trusted, unless CollectionOptions.Checked asks for checked mode, which
// validates every memory access (unverified programs always run checked).
//
// # Coming from cilium/ebpf
//
// Code written for cilium/ebpf ports by changing the import; these are the
// differences (docs/decisions/0041-cilium-api-review.md says why):
//
//   - A collection owns its memory and execution slots: Collection.Close
//     releases every program and map. Map.Close on one of its maps is an
//     error (its programs still use it); Map.Clone gives a handle that the
//     caller closes and that outlives the collection. Collection.Assign
//     leaves the objects the collection's. LoadAndAssign (a function, as
//     CollectionSpec's methods belong to package object) hands out objects
//     whose last Close closes their collection.
//   - CollectionSpec's Programs, Maps and Variables are slices sorted by
//     name: spec.Program(name), spec.Map(name) and spec.Variable(name)
//     find one. MapSpec.Type is Linux's number: uint32(MapHash).
//   - CollectionSpec.RewriteConstants and VariableSpec.Set are
//     CollectionSpec.SetConstant and SetVariable. Variable.Set of a
//     constant fails with ErrPermission (cilium/ebpf: ErrReadOnly).
//   - "Possible CPUs" are execution slots: a per-CPU value has Map.Slots()
//     elements (ebpf.MustPossibleCPU() in cilium/ebpf), in Lookup, Update
//     and the flat layout of BatchLookup and BatchUpdate (bpfhost also
//     takes one slice per key there).
//   - Iterate and the batch operations walk with NextKey, as cilium/ebpf's
//     Iterate does: when the key a walk stands on is deleted, a hash map's
//     walk starts over and may return keys twice (Linux's batch operations
//     walk buckets instead). A batch that fills its slices exactly returns
//     no error; the next one returns ErrKeyNotExist. Batch operations take
//     their update flags directly (no BatchOptions) and are not atomic:
//     they stop at the first failing element and return how many were done.
//     MapIterator.Err, and a batch cursor's call, wrap ErrIterationAborted
//     after 2*MaxEntries+16 steps, so that a walk ends however the map
//     changes.
//   - Keys and values are []byte, string, encoding.BinaryMarshaler /
//     BinaryUnmarshaler, or fixed-size values (pointers to them, slices of
//     them), as in cilium/ebpf; unsafe.Pointer is not taken. Decoding into a
//     []byte longer than the value fills its start; a nil valueOut only
//     tests that the key exists. Lookups in program arrays give program
//     IDs (cilium/ebpf also decodes into a **Program); maps of maps give
//     IDs or, into a **Map, a handle to close, as there.
//   - MapInfo and ProgramInfo carry what bpfhost knows (no BTF, no tag, no
//     run statistics); their ID methods always report ok.
//   - ringbuf.ErrClosed and perf.ErrClosed wrap os.ErrClosed, which
//     cilium/ebpf's are; perf.ErrClosed errors also wrap ErrClosed.
package bpfhost
