package maps

import (
	"errors"
	"strings"
	"testing"
)

func TestTypeNumbers(t *testing.T) {
	for _, c := range []struct {
		typ  Type
		n    uint32
		name string
	}{
		{Hash, 1, "hash"}, {Array, 2, "array"}, {ProgramArray, 3, "prog_array"},
		{PerfEventArray, 4, "perf_event_array"}, {PerCPUHash, 5, "percpu_hash"},
		{PerCPUArray, 6, "percpu_array"}, {LRUHash, 9, "lru_hash"},
		{LRUPerCPUHash, 10, "lru_percpu_hash"}, {LPMTrie, 11, "lpm_trie"},
		{ArrayOfMaps, 12, "array_of_maps"}, {HashOfMaps, 13, "hash_of_maps"},
		{Queue, 22, "queue"}, {Stack, 23, "stack"}, {RingBuf, 27, "ringbuf"},
		{BloomFilter, 30, "bloom_filter"}, {Type(99), 99, "type(99)"},
	} {
		if uint32(c.typ) != c.n || c.typ.String() != c.name {
			t.Errorf("%d: got %d %q, want %d %q", c.n, uint32(c.typ), c.typ.String(), c.n, c.name)
		}
	}
}

func TestNewValidation(t *testing.T) {
	inner := &Spec{Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 4}
	cases := []struct {
		name string
		spec Spec
		want Errno // 0: valid
	}{
		{"array", Spec{Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 4}, 0},
		{"array key 8", Spec{Type: Array, KeySize: 8, ValueSize: 8, MaxEntries: 4}, EINVAL},
		{"array value 0", Spec{Type: Array, KeySize: 4, ValueSize: 0, MaxEntries: 4}, EINVAL},
		{"array entries 0", Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 0}, EINVAL},
		{"array huge value", Spec{Type: Array, KeySize: 4, ValueSize: 8 << 20, MaxEntries: 1}, E2BIG},
		{"array no_prealloc", Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: FlagNoPrealloc}, EINVAL},
		{"array mmapable", Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: FlagMmapable}, 0},
		{"percpu array mmapable", Spec{Type: PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: FlagMmapable}, EINVAL},
		{"percpu array big value", Spec{Type: PerCPUArray, KeySize: 4, ValueSize: 40000, MaxEntries: 1}, E2BIG},
		{"rdonly+wronly", Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: FlagRdOnly | FlagWrOnly}, EINVAL},
		{"rdonly_prog+wronly_prog", Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: FlagRdOnlyProg | FlagWrOnlyProg}, EINVAL},
		{"global data", Spec{Name: ".rodata", Type: Array, KeySize: 4, ValueSize: 100, MaxEntries: 1, Flags: FlagRdOnlyProg}, 0},
		{"hash", Spec{Type: Hash, KeySize: 3, ValueSize: 5, MaxEntries: 10}, 0},
		{"hash key 0", Spec{Type: Hash, KeySize: 0, ValueSize: 5, MaxEntries: 10}, EINVAL},
		{"hash key 513", Spec{Type: Hash, KeySize: 513, ValueSize: 5, MaxEntries: 10}, E2BIG},
		{"hash no_prealloc", Spec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 10, Flags: FlagNoPrealloc}, 0},
		{"hash no_common_lru", Spec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 10, Flags: FlagNoCommonLRU}, EINVAL},
		{"hash mmapable", Spec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 10, Flags: FlagMmapable}, EINVAL},
		{"lru no_prealloc", Spec{Type: LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 10, Flags: FlagNoPrealloc}, ENOTSUPP},
		{"lru no_common_lru", Spec{Type: LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 10, Flags: FlagNoCommonLRU}, 0},
		{"percpu hash big value", Spec{Type: PerCPUHash, KeySize: 4, ValueSize: 40000, MaxEntries: 1}, E2BIG},
		{"spin lock in hash", Spec{Type: Hash, KeySize: 4, ValueSize: 16, MaxEntries: 1, HasSpinLock: true, SpinLockOffset: 8}, 0},
		{"spin lock misaligned", Spec{Type: Hash, KeySize: 4, ValueSize: 16, MaxEntries: 1, HasSpinLock: true, SpinLockOffset: 2}, EINVAL},
		{"spin lock outside", Spec{Type: Hash, KeySize: 4, ValueSize: 16, MaxEntries: 1, HasSpinLock: true, SpinLockOffset: 16}, EINVAL},
		{"spin lock percpu", Spec{Type: PerCPUHash, KeySize: 4, ValueSize: 16, MaxEntries: 1, HasSpinLock: true}, EINVAL},
		{"lpm", Spec{Type: LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 10, Flags: FlagNoPrealloc}, 0},
		{"lpm prealloc", Spec{Type: LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 10}, EINVAL},
		{"lpm key 4", Spec{Type: LPMTrie, KeySize: 4, ValueSize: 4, MaxEntries: 10, Flags: FlagNoPrealloc}, EINVAL},
		{"lpm key 261", Spec{Type: LPMTrie, KeySize: 261, ValueSize: 4, MaxEntries: 10, Flags: FlagNoPrealloc}, EINVAL},
		{"lpm value 0", Spec{Type: LPMTrie, KeySize: 8, ValueSize: 0, MaxEntries: 10, Flags: FlagNoPrealloc}, EINVAL},
		{"queue", Spec{Type: Queue, ValueSize: 4, MaxEntries: 10}, 0},
		{"queue key", Spec{Type: Queue, KeySize: 4, ValueSize: 4, MaxEntries: 10}, EINVAL},
		{"stack value 0", Spec{Type: Stack, MaxEntries: 10}, EINVAL},
		{"stack no_prealloc", Spec{Type: Stack, ValueSize: 4, MaxEntries: 10, Flags: FlagNoPrealloc}, EINVAL},
		{"bloom", Spec{Type: BloomFilter, ValueSize: 4, MaxEntries: 10, MapExtra: 3}, 0},
		{"bloom map_extra", Spec{Type: BloomFilter, ValueSize: 4, MaxEntries: 10, MapExtra: 16}, EINVAL},
		{"bloom key", Spec{Type: BloomFilter, KeySize: 4, ValueSize: 4, MaxEntries: 10}, EINVAL},
		{"map_extra on hash", Spec{Type: Hash, KeySize: 4, ValueSize: 4, MaxEntries: 10, MapExtra: 1}, EINVAL},
		{"ringbuf", Spec{Type: RingBuf, MaxEntries: 1 << 16}, 0},
		{"ringbuf not pow2", Spec{Type: RingBuf, MaxEntries: 3 * 4096}, EINVAL},
		{"ringbuf not page", Spec{Type: RingBuf, MaxEntries: 1024}, EINVAL},
		{"ringbuf key", Spec{Type: RingBuf, KeySize: 4, MaxEntries: 4096}, EINVAL},
		{"ringbuf flags", Spec{Type: RingBuf, MaxEntries: 4096, Flags: FlagRdOnly}, EINVAL},
		{"prog array", Spec{Type: ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4}, 0},
		{"prog array value 8", Spec{Type: ProgramArray, KeySize: 4, ValueSize: 8, MaxEntries: 4}, EINVAL},
		{"prog array rdonly_prog", Spec{Type: ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4, Flags: FlagRdOnlyProg}, EINVAL},
		{"perf event array default size", Spec{Type: PerfEventArray, KeySize: 4, ValueSize: 4}, 0},
		{"array of maps", Spec{Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, InnerMap: inner}, 0},
		{"array of maps no inner", Spec{Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4}, EINVAL},
		{"hash of maps", Spec{Type: HashOfMaps, KeySize: 8, ValueSize: 4, MaxEntries: 4, InnerMap: inner}, 0},
		{"nested of maps", Spec{Type: HashOfMaps, KeySize: 8, ValueSize: 4, MaxEntries: 4,
			InnerMap: &Spec{Type: ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: inner}}, EINVAL},
		{"unsupported type", Spec{Type: 7, KeySize: 4, ValueSize: 8, MaxEntries: 4}, EOPNOTSUPP},
		{"unknown type", Spec{Type: 99, KeySize: 4, ValueSize: 8, MaxEntries: 4}, EINVAL},
		{"too much memory", Spec{Type: Array, KeySize: 4, ValueSize: 1 << 20, MaxEntries: 1 << 12}, ENOMEM},
		{"too much per-CPU memory", Spec{Type: PerCPUHash, KeySize: 8, ValueSize: 32 << 10, MaxEntries: 1 << 16}, ENOMEM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.spec.Name = "m"
			m, err := New(c.spec, 4)
			wantErrno(t, "New", err, c.want)
			if c.want == 0 && m == nil {
				t.Fatal("nil map")
			}
			if c.want != 0 && err != nil && !strings.HasPrefix(err.Error(), `map "m": `) {
				t.Errorf("error %q does not name the map", err)
			}
		})
	}
}

func TestNewErrorText(t *testing.T) {
	_, err := New(Spec{Name: "counts", Type: Hash, ValueSize: 8, MaxEntries: 1}, 1)
	if err == nil || err.Error() != `map "counts": key size 0, want > 0` {
		t.Errorf("got %v", err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("%v is not ErrInvalid", err)
	}
}

func TestNewDefaults(t *testing.T) {
	m := mustNew(t, Spec{Type: PerfEventArray, KeySize: 4, ValueSize: 4}, 3)
	if got := m.Spec().MaxEntries; got != 3 {
		t.Errorf("perf event array max entries %d, want 3 (one per slot)", got)
	}
	// Key and value sizes left 0 are 4, as libbpf and cilium/ebpf create
	// the map (xdpdump's perf event array declares neither).
	m = mustNew(t, Spec{Type: PerfEventArray}, 2)
	if s := m.Spec(); s.KeySize != 4 || s.ValueSize != 4 || s.MaxEntries != 2 {
		t.Errorf("perf event array without sizes: key %d value %d entries %d, want 4 4 2", s.KeySize, s.ValueSize, s.MaxEntries)
	}
	if got := Memory(Spec{Type: PerfEventArray}, 2); got != Memory(m.Spec(), 2) {
		t.Errorf("Memory without sizes %d, with the defaults %d", got, Memory(m.Spec(), 2))
	}
	if _, err := New(Spec{Type: PerfEventArray, KeySize: 8}, 2); !errors.Is(err, ErrInvalid) {
		t.Errorf("perf event array with 8-byte keys: %v", err)
	}
	m = mustNew(t, Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}, 0)
	if m.Slots() <= 0 {
		t.Errorf("default slots %d", m.Slots())
	}
	if _, err := New(Spec{Type: Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}, MaxSlots+1); !errors.Is(err, ErrInvalid) {
		t.Errorf("too many slots: %v", err)
	}
}

func TestErrnoOf(t *testing.T) {
	if ErrnoOf(nil) != 0 || ErrnoOf(ErrKeyExist) != EEXIST || ErrnoOf(errors.New("x")) != EINVAL {
		t.Error("ErrnoOf of plain errors")
	}
	if EEXIST.Ret() != -17 || E2BIG.Ret() != -7 || ENOENT.Ret() != -2 {
		t.Error("Ret")
	}
}
