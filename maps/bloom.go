package maps

import (
	"math/rand/v2"
	"sync/atomic"
)

// BloomFilterMap is BPF_MAP_TYPE_BLOOM_FILTER: push adds a value, peek
// answers "maybe present" (0) or "certainly absent" (-ENOENT). The bit
// array is sized for MaxEntries values with the spec's number of hash
// functions (MapExtra's low 4 bits, 0 meaning 5), rounded up to a power of
// two. Bits are set with atomic ORs, so it takes no lock.
type BloomFilterMap struct {
	base
	bits   []uint64
	mask   uint64 // bit count - 1
	hashes int
	seed   uint64
}

// bloomBits is the number of bits a bloom filter uses: about
// entries*hashes/ln 2, a power of two, at least 64.
func bloomBits(maxEntries uint32, hashes uint32) uint64 {
	n := uint64(maxEntries) * uint64(hashes) * 10 / 7
	return max(nextPow2(n), 64)
}

// bloomHashes is the number of hash functions of a bloom filter spec.
func bloomHashes(s *Spec) uint32 {
	if k := uint32(s.MapExtra & 0xf); k != 0 {
		return k
	}
	return 5
}

// bloomSeed is a new filter's hash seed.
func bloomSeed(s *Spec) uint64 {
	if s.Flags&FlagZeroSeed != 0 {
		return 0
	}
	return rand.Uint64()
}

func newBloom(b base) *BloomFilterMap {
	k := bloomHashes(&b.spec)
	n := bloomBits(b.spec.MaxEntries, k)
	return &BloomFilterMap{base: b, bits: make([]uint64, n/64), mask: n - 1, hashes: int(k), seed: bloomSeed(&b.spec)}
}

// positions calls fn with the bit index of each hash function.
func (f *BloomFilterMap) positions(value []byte, fn func(uint64) bool) bool {
	// Double hashing: h1 + i*h2 gives k independent-enough indexes
	// from one 64-bit hash.
	h := hashBytes(f.seed, value)
	h1, h2 := h, mix(h, hashK1)|1
	for i := 0; i < f.hashes; i++ {
		if !fn((h1 + uint64(i)*h2) & f.mask) {
			return false
		}
	}
	return true
}

// PushElem adds value; flags must be BPF_ANY.
func (f *BloomFilterMap) PushElem(value []byte, flags uint64) int64 {
	if r := f.progWrite(); r != 0 {
		return r
	}
	return f.push(value, flags)
}

func (f *BloomFilterMap) push(value []byte, flags uint64) int64 {
	if flags != uint64(UpdateAny) || len(value) < int(f.spec.ValueSize) {
		return EINVAL.Ret()
	}
	value = value[:f.spec.ValueSize]
	f.positions(value, func(b uint64) bool {
		atomic.OrUint64(&f.bits[b/64], 1<<(b%64))
		return true
	})
	return 0
}

// PeekElem returns 0 if value may have been pushed, -ENOENT if it was not.
func (f *BloomFilterMap) PeekElem(value []byte) int64 {
	if len(value) < int(f.spec.ValueSize) {
		return EINVAL.Ret()
	}
	value = value[:f.spec.ValueSize]
	if f.positions(value, func(b uint64) bool { return atomic.LoadUint64(&f.bits[b/64])&(1<<(b%64)) != 0 }) {
		return 0
	}
	return ENOENT.Ret()
}

// PopElem is not supported.
func (f *BloomFilterMap) PopElem([]byte) int64 { return EOPNOTSUPP.Ret() }

// Lookup with a nil key tests valueOut (it is read, not written): nil if
// the value may be present, ErrKeyNotExist if not.
func (f *BloomFilterMap) Lookup(key, value []byte) error {
	const op = "lookup"
	if err := f.userRead(op); err != nil {
		return err
	}
	if err := f.checkKey(op, key); err != nil {
		return err
	}
	if err := f.checkValue(op, value); err != nil {
		return err
	}
	return retErr(f.spec.Name, op, f.PeekElem(value))
}

// Update with a nil key adds value.
func (f *BloomFilterMap) Update(key, value []byte, flags UpdateFlags) error {
	const op = "update"
	if err := f.userWrite(op); err != nil {
		return err
	}
	if err := f.checkKey(op, key); err != nil {
		return err
	}
	if err := f.checkValue(op, value); err != nil {
		return err
	}
	return retErr(f.spec.Name, op, f.push(value, uint64(flags)))
}

// Delete is not supported.
func (f *BloomFilterMap) Delete([]byte) error { return notSupported(&f.base, "delete", EOPNOTSUPP) }

// LookupAndDelete is not supported.
func (f *BloomFilterMap) LookupAndDelete(_, _ []byte) error {
	return notSupported(&f.base, "lookup and delete", EOPNOTSUPP)
}

// NextKey is not supported.
func (f *BloomFilterMap) NextKey(_, _ []byte) error {
	return notSupported(&f.base, "next key", EOPNOTSUPP)
}
