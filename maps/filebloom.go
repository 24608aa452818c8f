package maps

import (
	"encoding/binary"
	"unsafe"
)

// A bloom filter in a map memory file (NewInFile) keeps its whole state
// there: the u64 hash seed in the first 8 bytes of the data, then the bit
// array, which programs and user space set with atomic ORs in place. A
// reused file keeps its seed, so that values pushed before are found
// again; bits are only ever set, so whatever the file holds at a SIGKILL
// is the filter after some prefix of its pushes (a push in flight may have
// set some of its bits: at worst one more false positive).

// newBloomIn makes a bloom filter over data (8-byte aligned, 8 + bits/8
// bytes): a new filter writes its seed there, a reused one reads it.
func newBloomIn(b base, data []byte, reused bool) *BloomFilterMap {
	k := bloomHashes(&b.spec)
	n := bloomBits(b.spec.MaxEntries, k)
	var seed uint64
	if reused {
		seed = binary.NativeEndian.Uint64(data)
	} else {
		seed = bloomSeed(&b.spec)
		binary.NativeEndian.PutUint64(data, seed)
	}
	bits := unsafe.Slice((*uint64)(unsafe.Pointer(&data[8])), n/64)
	return &BloomFilterMap{base: b, bits: bits, mask: n - 1, hashes: int(k), seed: seed}
}
