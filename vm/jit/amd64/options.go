package amd64

import "unsafe"

// Options configure an engine made with NewWithOptions. The zero value is
// the plain engine of New.
type Options struct {
	// Maps, if not nil, describes the map an address names: the runtime
	// patches every lddw of a map to the address of the map's handle
	// before compiling, and Maps turns such an address back into the map
	// (ok false for anything else). Where the program's facts
	// (vm.Program.MapArgs, the verifier's) give the map address of a
	// bpf_map_lookup_elem call, the engine looks the map up without the
	// helper (see InlineMap); it derives no such fact itself.
	//
	// Setting it declares that the program's helper
	// platform/linux.FnMapLookupElem is bpf_map_lookup_elem as package
	// helpers implements it, and that the maps it describes outlive the
	// executables compiled with it (executables keep the InlineMap, which
	// references the map's memory and the map).
	Maps func(ptr uint64) (InlineMap, bool)
}

// InlineKind says how the engine may look up a map without the helper.
type InlineKind uint8

// Kinds of InlineMap.
const (
	// InlineNone: the engine calls the helper as usual.
	InlineNone InlineKind = iota
	// InlineArray is BPF_MAP_TYPE_ARRAY: the code computes the value's
	// address itself, Values + index*Stride, or NULL for an index of at
	// least MaxEntries.
	InlineArray
	// InlinePerCPUArray is BPF_MAP_TYPE_PERCPU_ARRAY: values of slot s
	// start at Values + s*MaxEntries*Stride; NULL also for a slot of at
	// least Slots.
	InlinePerCPUArray
	// InlineElem is any other map whose lookup is Elem.LookupPtr (hash
	// maps and their per-CPU and LRU forms, the LPM trie): the code leaves
	// for Go and calls Elem directly, skipping the helper's resolution of
	// the map pointer.
	InlineElem
	// InlineHash is a hash map (BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH,
	// LRU_PERCPU_HASH) described by Hash: the code hashes the key, walks
	// the bucket's chain as a seqlock reader and computes the value's
	// address itself; when a writer gets in the way it leaves for Go and
	// calls Elem, like InlineElem. Keys longer than MaxInlineKey bytes are
	// looked up as InlineElem.
	InlineHash
)

// MaxInlineKey is the longest key of InlineHash maps the code looks up
// itself.
const MaxInlineKey = 64

// InlineMap describes a map for lookups without the helper. It mirrors the
// map's own arithmetic (maps.ArrayMap): the runtime fills it from the map
// (see Options.Maps).
type InlineMap struct {
	Kind InlineKind
	// Values is the memory of all values (maps.ElemMap.ValueMemory):
	// [slot][index] for per-CPU arrays. Holding it keeps it alive.
	Values []byte
	// KeySize is the key size in bytes (4 for arrays).
	KeySize uint32
	// Stride is the distance between consecutive values: the value size
	// rounded up to 8 bytes.
	Stride uint32
	// MaxEntries is the number of values (of each slot).
	MaxEntries uint32
	// Slots is the number of slots of a per-CPU array.
	Slots int
	// Elem looks up a key; it is what the helper calls for InlineElem
	// maps (a maps.ElemMap satisfies it). InlineHash maps need it too: it
	// is their slow path, and it keeps the memory Hash describes alive.
	Elem Lookuper
	// Hash describes the hash table of an InlineHash map.
	Hash HashTable
}

// HashTable is the memory of a hash map as generated code reads it: a
// copy of maps.HashInline, which documents the lookup step by step. The
// addresses must stay valid while Elem is reachable.
type HashTable struct {
	// Heads is the address of Mask+1 i32 bucket heads (-1: empty).
	Heads uint64
	// Mask is the number of buckets minus one.
	Mask uint32
	// Elems is the address of the element records, Stride bytes apart:
	// u32 hash, i32 next element (-1 ends a chain), the key padded with
	// zeros to 8 bytes.
	Elems uint64
	// Stride is 8 + KeySize rounded up to 8.
	Stride uint32
	// N is the number of elements; chains link indexes below it.
	N uint32
	// Seed and Mult define the key's hash (maps.HashInline).
	Seed uint64
	Mult [3]uint64
	// Stripes is the address of the lock stripes, StripeSize bytes apart;
	// bucket b belongs to stripe b&StripeMask, whose u32 sequence counter
	// is at SeqOffset (odd while a writer changes the stripe's chains).
	Stripes    uint64
	StripeSize uint32
	StripeMask uint32
	SeqOffset  uint32
	// Values is the address of the values, ValueStride bytes apart by
	// element and SlotStride bytes apart by slot (per-CPU maps).
	Values      uint64
	ValueStride uint32
	SlotStride  uint64
	// PerCPU maps have Slots copies of every value (InlineMap.Slots).
	PerCPU bool
	// LRU maps mark an element looked up by setting its u32 reference
	// word at Refs + 4*index to 1 (if it is 0).
	LRU  bool
	Refs uint64
}

// Lookuper is the lookup of a map as bpf_map_lookup_elem uses it:
// maps.ElemMap.LookupPtr.
type Lookuper interface {
	LookupPtr(key []byte, slot int) unsafe.Pointer
}
