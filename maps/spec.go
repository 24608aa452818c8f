package maps

import (
	"fmt"
	"math/bits"
	"runtime"
)

// Spec describes a map to create. It is plain data: the object loader fills
// it from an ELF's .maps section or a global data section, and New turns it
// into a Map.
type Spec struct {
	// Name names the map in errors ("counts", ".rodata").
	Name string
	Type Type
	// KeySize and ValueSize are in bytes; ValueSize is the size of one
	// value, also for per-CPU maps.
	KeySize, ValueSize uint32
	// MaxEntries is the capacity; for ring buffers the data size in bytes.
	MaxEntries uint32
	// Flags are creation flags (FlagNoPrealloc, FlagRdOnlyProg, ...).
	Flags uint32
	// MapExtra is map_extra: for bloom filters, the number of hash
	// functions in its low 4 bits (0 means 5).
	MapExtra uint64
	// InnerMap is the template inner maps of array_of_maps and
	// hash_of_maps must match.
	InnerMap *Spec
	// HasSpinLock says the value holds a struct bpf_spin_lock at
	// SpinLockOffset (known from BTF): copies skip it and BPF_F_LOCK
	// updates take it.
	HasSpinLock    bool
	SpinLockOffset uint32
	// HasTimer says the value holds a struct bpf_timer (16 bytes) at
	// TimerOffset (known from BTF): copies skip it, as they skip the lock.
	HasTimer    bool
	TimerOffset uint32
}

// Limits New enforces.
const (
	// MaxMemory is the most value, key and bookkeeping memory one map may
	// preallocate. Larger specs fail with ErrNoMemory instead of
	// exhausting the host.
	MaxMemory = 1 << 30
	// MaxSlots is the most execution slots a map may be created for.
	MaxSlots = 1 << 12
	// PageSize is the page size ring buffer sizes must be a multiple of:
	// Linux's on the common architectures, whatever the host's is, so that
	// objects behave the same on every host.
	PageSize = 4096

	maxKeySize       = 512     // MAX_BPF_STACK: hash keys live on the stack
	kmallocMax       = 4 << 20 // KMALLOC_MAX_SIZE with 4 KiB pages
	maxHashValueSize = kmallocMax - 512 - 48
	maxPerCPUValue   = 32 << 10 // PCPU_MIN_UNIT_SIZE
	lpmMinKeySize    = 5        // struct bpf_lpm_trie_key + one byte
	lpmMaxKeySize    = 4 + 256  // LPM_DATA_SIZE_MAX
	lpmMaxValueSize  = kmallocMax - 512 - 64
)

// New creates a map for a runtime with the given number of execution slots
// (the "CPUs" per-CPU maps keep a value for; slots <= 0 means
// runtime.GOMAXPROCS(0) capped at MaxSlots). It validates the spec as Linux's map_create does
// and returns errors that name the map and wrap ErrInvalid, ErrFull,
// ErrNotSupported or ErrNoMemory.
//
// A perf event array with MaxEntries 0 gets one entry per slot, as libbpf
// and cilium/ebpf size it to the number of CPUs.
func New(spec Spec, slots int) (Map, error) {
	spec, slots, err := prepare(spec, slots)
	if err != nil {
		return nil, err
	}
	b := base{spec: spec, slots: slots}
	switch spec.Type {
	case Array, PerCPUArray:
		return newArray(b), nil
	case Hash, PerCPUHash, LRUHash, LRUPerCPUHash:
		return newHash(b), nil
	case LPMTrie:
		return newLPM(b), nil
	case Queue, Stack:
		return newQueue(b), nil
	case BloomFilter:
		return newBloom(b), nil
	case ProgramArray, ArrayOfMaps:
		return newHandleArray(b), nil
	case HashOfMaps:
		return newHandleHash(b), nil
	case RingBuf:
		return newRingBuf(b), nil
	case PerfEventArray:
		return newPerfEventArray(b), nil
	case DevMap, DevMapHash, CPUMap:
		return newDevMap(b), nil
	case XSKMap:
		return newXSKMap(b), nil
	case SkStorage:
		return newSkStorage(b), nil
	}
	return nil, opError(spec.Name, "", EINVAL, fmt.Sprintf("type %s not supported", spec.Type))
}

// prepare validates spec for slots and returns both as New uses them.
func prepare(spec Spec, slots int) (Spec, int, error) {
	if slots <= 0 {
		slots = min(runtime.GOMAXPROCS(0), MaxSlots)
	}
	if slots > MaxSlots {
		return Spec{}, 0, opError(spec.Name, "", EINVAL, fmt.Sprintf("%d slots, want at most %d", slots, MaxSlots))
	}
	if spec.Type == PerfEventArray {
		perfEventArrayDefaults(&spec, slots)
	}
	if spec.InnerMap != nil {
		inner := *spec.InnerMap
		spec.InnerMap = &inner
	}
	if err := spec.validate(slots); err != nil {
		return Spec{}, 0, err
	}
	if need := spec.memory(slots); need > MaxMemory {
		return Spec{}, 0, opError(spec.Name, "", ENOMEM, fmt.Sprintf("%s needs %d bytes, limit is %d", spec.Type, need, uint64(MaxMemory)))
	}
	return spec, slots, nil
}

func (s *Spec) invalid(format string, args ...any) error {
	return opError(s.Name, "", EINVAL, fmt.Sprintf(format, args...))
}

func (s *Spec) tooBig(format string, args ...any) error {
	return opError(s.Name, "", E2BIG, fmt.Sprintf(format, args...))
}

// validate checks the spec the way Linux's per-type alloc_check functions do.
func (s *Spec) validate(slots int) error {
	if s.Flags&FlagRdOnly != 0 && s.Flags&FlagWrOnly != 0 {
		return s.invalid("flags %#x: BPF_F_RDONLY and BPF_F_WRONLY together", s.Flags)
	}
	if s.Flags&FlagRdOnlyProg != 0 && s.Flags&FlagWrOnlyProg != 0 {
		return s.invalid("flags %#x: BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together", s.Flags)
	}
	if s.Type != BloomFilter && s.MapExtra != 0 {
		return s.invalid("map_extra %#x, want 0 for %s", s.MapExtra, s.Type)
	}
	if s.HasSpinLock {
		switch s.Type {
		case Hash, Array, SkStorage:
		default:
			return s.invalid("%s values cannot hold a bpf_spin_lock", s.Type)
		}
		if s.SpinLockOffset%4 != 0 || uint64(s.SpinLockOffset)+4 > uint64(s.ValueSize) {
			return s.invalid("bpf_spin_lock at offset %d of a %d-byte value", s.SpinLockOffset, s.ValueSize)
		}
	}
	if s.HasTimer {
		switch s.Type {
		case Hash, LRUHash, Array:
		default:
			return s.invalid("%s values cannot hold a bpf_timer", s.Type)
		}
		if s.TimerOffset%8 != 0 || uint64(s.TimerOffset)+timerSize > uint64(s.ValueSize) {
			return s.invalid("bpf_timer at offset %d of a %d-byte value", s.TimerOffset, s.ValueSize)
		}
		if s.HasSpinLock && s.SpinLockOffset+4 > s.TimerOffset && s.TimerOffset+timerSize > s.SpinLockOffset {
			return s.invalid("bpf_timer at offset %d overlaps the bpf_spin_lock at %d", s.TimerOffset, s.SpinLockOffset)
		}
	}
	if s.Type == SkStorage {
		return s.validateSkStorage()
	}
	if s.Type != PerfEventArray && s.MaxEntries == 0 {
		return s.invalid("max entries 0, want > 0")
	}
	switch s.Type {
	case Array, PerCPUArray, ProgramArray, ArrayOfMaps, PerfEventArray:
		return s.validateArray()
	case Hash, PerCPUHash, LRUHash, LRUPerCPUHash, HashOfMaps:
		return s.validateHash()
	case DevMap, DevMapHash, CPUMap:
		return s.validateDevMap()
	case XSKMap:
		return s.validateXSKMap()
	case LPMTrie:
		if s.Flags&FlagNoPrealloc == 0 {
			return s.invalid("flags %#x: lpm_trie requires BPF_F_NO_PREALLOC", s.Flags)
		}
		if err := s.checkFlags(FlagNoPrealloc | FlagNUMANode | flagAccessMask); err != nil {
			return err
		}
		if s.KeySize < lpmMinKeySize || s.KeySize > lpmMaxKeySize {
			return s.invalid("key size %d, want %d to %d (4-byte prefix length and data)", s.KeySize, lpmMinKeySize, lpmMaxKeySize)
		}
		if s.ValueSize == 0 || s.ValueSize > lpmMaxValueSize {
			return s.invalid("value size %d, want 1 to %d", s.ValueSize, lpmMaxValueSize)
		}
	case Queue, Stack:
		if err := s.checkFlags(FlagNUMANode | flagAccessMask); err != nil {
			return err
		}
		if s.KeySize != 0 {
			return s.invalid("key size %d, want 0", s.KeySize)
		}
		if s.ValueSize == 0 {
			return s.invalid("value size 0, want > 0")
		}
		if s.ValueSize > kmallocMax {
			return s.tooBig("value size %d, want at most %d", s.ValueSize, kmallocMax)
		}
	case BloomFilter:
		if err := s.checkFlags(FlagNUMANode | FlagZeroSeed | flagAccessMask); err != nil {
			return err
		}
		if s.KeySize != 0 {
			return s.invalid("key size %d, want 0", s.KeySize)
		}
		if s.ValueSize == 0 {
			return s.invalid("value size 0, want > 0")
		}
		if s.MapExtra&^0xf != 0 {
			return s.invalid("map_extra %#x, want a hash count of at most 15", s.MapExtra)
		}
		if s.ValueSize > kmallocMax {
			return s.tooBig("value size %d, want at most %d", s.ValueSize, kmallocMax)
		}
	case RingBuf:
		if err := s.checkFlags(FlagNUMANode); err != nil {
			return err
		}
		if s.KeySize != 0 || s.ValueSize != 0 {
			return s.invalid("key size %d and value size %d, want 0 and 0", s.KeySize, s.ValueSize)
		}
		if bits.OnesCount32(s.MaxEntries) != 1 || s.MaxEntries%PageSize != 0 {
			return s.invalid("size %d, want a power of two and a multiple of %d", s.MaxEntries, PageSize)
		}
	default:
		if _, known := s.Type.info(); known {
			return opError(s.Name, "", EOPNOTSUPP, fmt.Sprintf("type %s not supported", s.Type))
		}
		return s.invalid("unknown type %d", uint32(s.Type))
	}
	return nil
}

func (s *Spec) checkFlags(allowed uint32) error {
	if extra := s.Flags &^ allowed; extra != 0 {
		return s.invalid("flags %#x not allowed for %s", extra, s.Type)
	}
	return nil
}

func (s *Spec) validateArray() error {
	allowed := FlagNUMANode | FlagMmapable | flagAccessMask | FlagPreserveElem | FlagInnerMap
	if err := s.checkFlags(allowed); err != nil {
		return err
	}
	if s.Type != Array && s.Flags&(FlagMmapable|FlagInnerMap) != 0 {
		return s.invalid("flags %#x: BPF_F_MMAPABLE and BPF_F_INNER_MAP are for plain arrays", s.Flags)
	}
	if s.Type != PerfEventArray && s.Flags&FlagPreserveElem != 0 {
		return s.invalid("flags %#x: BPF_F_PRESERVE_ELEMS is for perf event arrays", s.Flags)
	}
	if s.Type == PerCPUArray && s.Flags&FlagNUMANode != 0 {
		return s.invalid("flags %#x: BPF_F_NUMA_NODE is not for per-CPU arrays", s.Flags)
	}
	if s.KeySize != 4 {
		return s.invalid("key size %d, want 4", s.KeySize)
	}
	switch s.Type {
	case ProgramArray, ArrayOfMaps, PerfEventArray:
		// Their values are file descriptors in Linux.
		if s.ValueSize != 4 {
			return s.invalid("value size %d, want 4", s.ValueSize)
		}
		if s.Flags&(FlagRdOnlyProg|FlagWrOnlyProg) != 0 {
			return s.invalid("flags %#x: program access flags not allowed for %s", s.Flags, s.Type)
		}
		if s.Type == ArrayOfMaps {
			return s.validateInner()
		}
		return nil
	}
	if s.ValueSize == 0 {
		return s.invalid("value size 0, want > 0")
	}
	if s.Type == PerCPUArray && s.ValueSize > maxPerCPUValue {
		return s.tooBig("value size %d, want at most %d for per-CPU values", s.ValueSize, maxPerCPUValue)
	}
	if s.ValueSize > kmallocMax {
		return s.tooBig("value size %d, want at most %d", s.ValueSize, kmallocMax)
	}
	return nil
}

func (s *Spec) validateHash() error {
	lru := s.Type == LRUHash || s.Type == LRUPerCPUHash
	if err := s.checkFlags(FlagNoPrealloc | FlagNoCommonLRU | FlagNUMANode | flagAccessMask | FlagZeroSeed); err != nil {
		return err
	}
	if !lru && s.Flags&FlagNoCommonLRU != 0 {
		return s.invalid("flags %#x: BPF_F_NO_COMMON_LRU is for LRU maps", s.Flags)
	}
	if lru && s.Flags&FlagNoPrealloc != 0 {
		return opError(s.Name, "", ENOTSUPP, fmt.Sprintf("flags %#x: LRU maps are always preallocated", s.Flags))
	}
	if s.KeySize == 0 {
		return s.invalid("key size 0, want > 0")
	}
	if s.KeySize > maxKeySize {
		return s.tooBig("key size %d, want at most %d", s.KeySize, maxKeySize)
	}
	if s.Type == HashOfMaps {
		if s.ValueSize != 4 {
			return s.invalid("value size %d, want 4", s.ValueSize)
		}
		return s.validateInner()
	}
	if s.ValueSize == 0 {
		return s.invalid("value size 0, want > 0")
	}
	if s.ValueSize >= maxHashValueSize {
		return s.tooBig("value size %d, want less than %d", s.ValueSize, maxHashValueSize)
	}
	if s.Type.PerCPU() && s.ValueSize > maxPerCPUValue {
		return s.tooBig("value size %d, want at most %d for per-CPU values", s.ValueSize, maxPerCPUValue)
	}
	return nil
}

func (s *Spec) validateInner() error {
	in := s.InnerMap
	if in == nil {
		return s.invalid("%s needs an inner map template", s.Type)
	}
	switch in.Type {
	case ArrayOfMaps, HashOfMaps, ProgramArray:
		return s.invalid("inner map type %s not allowed", in.Type)
	}
	if err := in.validate(1); err != nil {
		return s.invalid("inner map: %v", err)
	}
	return nil
}

// Memory returns the bytes New preallocates for spec with the given number
// of execution slots (keys, values and bookkeeping), saturating instead of
// wrapping: what a per-collection memory budget charges for the map.
func Memory(spec Spec, slots int) uint64 {
	if slots <= 0 {
		slots = min(runtime.GOMAXPROCS(0), MaxSlots)
	}
	if spec.Type == PerfEventArray {
		perfEventArrayDefaults(&spec, min(slots, MaxSlots))
	}
	return spec.memory(slots)
}

// perfEventArrayDefaults gives a perf event array the sizes libbpf and
// cilium/ebpf give it where its definition leaves them 0: 4-byte keys and
// values (the only sizes Linux allows: the values are file descriptors)
// and one entry per slot (CPU).
func perfEventArrayDefaults(spec *Spec, slots int) {
	if spec.MaxEntries == 0 {
		spec.MaxEntries = uint32(slots)
	}
	if spec.KeySize == 0 {
		spec.KeySize = 4
	}
	if spec.ValueSize == 0 {
		spec.ValueSize = 4
	}
}

// memory estimates what New preallocates, saturating instead of wrapping.
func (s *Spec) memory(slots int) uint64 {
	n := uint64(s.MaxEntries)
	ks, vs := round8(uint64(s.KeySize)), round8(uint64(s.ValueSize))
	if s.Type.PerCPU() {
		vs *= uint64(slots)
	}
	mul := func(a, b uint64) uint64 {
		hi, lo := bits.Mul64(a, b)
		if hi != 0 {
			return 1 << 63
		}
		return lo
	}
	switch s.Type {
	case Array, PerCPUArray:
		return mul(n, vs)
	case Hash, PerCPUHash, LRUHash, LRUPerCPUHash, HashOfMaps, DevMap, DevMapHash, CPUMap:
		return mul(n, ks+vs+32) + mul(nextPow2(n), 4)
	case LPMTrie:
		return mul(2*n, round8(uint64(s.KeySize))+24) + mul(n, vs)
	case Queue, Stack:
		return mul(n+1, vs)
	case BloomFilter:
		return bloomBits(s.MaxEntries, bloomHashes(s)) / 8
	case RingBuf:
		return 2 * n
	case ProgramArray, ArrayOfMaps, PerfEventArray:
		return mul(n, 16)
	case SkStorage:
		c := uint64(skStorageCapacity(s.ValueSize))
		return mul(c, 8+vs+32) + mul(nextPow2(c), 4)
	}
	return 0
}

func round8(n uint64) uint64 { return (n + 7) &^ 7 }

func nextPow2(n uint64) uint64 {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len64(n-1)
}

// userValueSize is the size of a value as user space reads and writes it:
// per-CPU maps lay out one value per slot, each rounded up to 8 bytes.
func (s *Spec) userValueSize(slots int) int {
	if s.Type.PerCPU() {
		return int(round8(uint64(s.ValueSize))) * slots
	}
	return int(s.ValueSize)
}
