package maps

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// table is the preallocated hash table under hash maps and hash_of_maps:
// MaxEntries elements whose keys live in a slab, chained into a
// power-of-two number of buckets by element index. Buckets are guarded by
// striped RW locks: writers take the write lock of one stripe, lookups
// either its read lock or none (findFast: a seqlock read, validated by the
// stripe's sequence counter, which writers make odd while they change a
// chain). Freed elements go back to a free stack and are reused, so an
// element's key and value memory never moves, and a reader that follows a
// stale link still reads a valid element.
type table struct {
	keySize int
	seed    uint64
	n       int32
	// elems holds each element's record, stride bytes apart: u32 hash,
	// i32 chain link (-1 ends), then the key padded with zeros to 8 bytes,
	// so that a lookup touches one cache line per element it passes. Hash,
	// link and key are written under the bucket's write lock, atomically
	// (lock-free readers load them); the key memory is stable (ForEach
	// hands it out).
	elems  []byte
	stride uintptr
	// inChain is 0 while the element is not linked, else its generation
	// (1 to 3, see nextGen), guarded by the bucket lock. In a map memory
	// file it is the entries' in-use flags: link sets it after the key,
	// unlink clears it first (filekeyed.go).
	inChain []uint8
	heads   []int32 // bucket heads; stored atomically so scans can skip empty buckets unlocked
	mask    uint32  // buckets - 1
	stripes []stripe
	smask   uint32

	mu   sync.Mutex // guards free (and the LRU list of LRU maps)
	free []int32
}

// stripe is a lock padded to its own cache line, with the sequence counter
// of the seqlock readers: odd while a writer changes a chain of the
// stripe's buckets.
type stripe struct {
	sync.RWMutex
	seq atomic.Uint32
	_   [64 - (unsafe.Sizeof(sync.RWMutex{})+4)%64]byte
}

// Where the sequence counter lies in a stripe, for code that reads it
// (HashInline).
const (
	stripeSize   = unsafe.Sizeof(stripe{})
	stripeSeqOff = unsafe.Offsetof(stripe{}.seq)
)

const maxStripes = 256

func (t *table) init(n uint32, keySize uint32, seed uint64) {
	t.initIn(n, keySize, seed, slab(uint64(recordStride(keySize))*uint64(n)), make([]uint8, n))
}

// initIn is init with the element records and in-use flags in the given
// memory (zeroed, or a map memory file's that restore relinks): n records
// of recordStride(keySize) bytes and n flags.
func (t *table) initIn(n uint32, keySize uint32, seed uint64, elems []byte, inChain []uint8) {
	nb := uint32(nextPow2(uint64(n)))
	ns := min(nb, maxStripes)
	*t = table{
		keySize: int(keySize),
		seed:    seed,
		n:       int32(n),
		stride:  uintptr(recordStride(keySize)),
		elems:   elems,
		inChain: inChain,
		heads:   make([]int32, nb),
		mask:    nb - 1,
		stripes: make([]stripe, ns),
		smask:   ns - 1,
		free:    make([]int32, n),
	}
	for i := range t.heads {
		t.heads[i] = -1
	}
	for i := range t.free {
		// Pop order hands out element 0 first.
		t.free[i] = int32(n) - 1 - int32(i)
	}
}

func (t *table) lock(bucket uint32) *stripe { return &t.stripes[bucket&t.smask] }

// rec returns element e's record header.
func (t *table) rec(e int32) *elemHeader {
	return (*elemHeader)(unsafe.Pointer(&t.elems[uintptr(e)*t.stride]))
}

// elemHeader starts each element record.
type elemHeader struct {
	hash uint32
	next int32
}

func (t *table) key(e int32) []byte {
	off := uintptr(e)*t.stride + 8
	return t.elems[off : off+uintptr(t.keySize)]
}

func (t *table) keyPtr(e int32) unsafe.Pointer {
	return unsafe.Pointer(&t.elems[uintptr(e)*t.stride+8])
}

func (t *table) next(e int32) int32 { return t.rec(e).next }

func (t *table) hashOf(e int32) uint32 { return t.rec(e).hash }

// find returns the element holding key in bucket b, or -1; the caller
// holds the bucket's lock.
func (t *table) find(b uint32, h uint32, key []byte) int32 {
	for e := t.heads[b]; e >= 0; {
		r := t.rec(e)
		if r.hash == h && string(t.key(e)) == string(key) {
			return e
		}
		e = r.next
	}
	return -1
}

// findFast is find without the lock, for lookups: a seqlock read of the
// bucket's stripe. ok is false if a writer changed the stripe's chains
// meanwhile (or was changing them), or the walk did not end within n
// steps (relinked elements can make a chain look cyclic): the caller then
// takes the read lock and calls find. Links are always -1 or indexes
// below n, so a stale walk stays in the slab; e is still bounds-checked.
func (t *table) findFast(b uint32, h uint32, key []byte) (e int32, ok bool) {
	s := &t.stripes[b&t.smask]
	seq := s.seq.Load()
	if seq&1 != 0 {
		return -1, false
	}
	e = atomic.LoadInt32(&t.heads[b])
	for steps := t.n; e >= 0; steps-- {
		if e >= t.n || steps == 0 {
			return -1, false
		}
		r := unsafe.Pointer(&t.elems[uintptr(e)*t.stride])
		if atomic.LoadUint32((*uint32)(r)) == h && keyEqual(unsafe.Add(r, 8), key) {
			break
		}
		e = atomic.LoadInt32((*int32)(unsafe.Add(r, 4)))
	}
	if s.seq.Load() != seq {
		return -1, false
	}
	return e, true
}

// keyEqual compares the key stored at p with key a word at a time, with
// atomic loads: a writer may be changing it. Stored keys are padded with
// zeros to whole words.
func keyEqual(p unsafe.Pointer, key []byte) bool {
	n := len(key) &^ 7
	for i := 0; i < n; i += 8 {
		if atomic.LoadUint64((*uint64)(unsafe.Add(p, i))) != binary.NativeEndian.Uint64(key[i:]) {
			return false
		}
	}
	return n == len(key) || atomic.LoadUint64((*uint64)(unsafe.Add(p, n))) == keyWord(key[n:])
}

// keyWord is the word of up to 8 key bytes as memory holds them, padded
// with zeros.
func keyWord(b []byte) uint64 {
	if len(b) == 4 && littleEndian { // the common u32 key, without a copy
		return uint64(binary.LittleEndian.Uint32(b))
	}
	var w [8]byte
	copy(w[:], b)
	return binary.NativeEndian.Uint64(w[:])
}

// littleEndian is true where memory holds words low byte first.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// writeBegin and writeEnd bracket a change of bucket b's chain: the
// stripe's sequence is odd in between. The caller holds the write lock.
func (t *table) writeBegin(b uint32) { t.lock(b).seq.Add(1) }
func (t *table) writeEnd(b uint32)   { t.lock(b).seq.Add(1) }

// link inserts element e with key and hash h at the head of bucket b, as
// generation gen (1 for a new key, see replace); the caller holds the
// bucket's write lock.
func (t *table) link(b uint32, h uint32, e int32, key []byte, gen uint8) {
	t.writeBegin(b)
	t.linkIn(b, h, e, key, gen)
	t.writeEnd(b)
}

// linkIn is link inside a writeBegin/writeEnd window the caller opened.
func (t *table) linkIn(b uint32, h uint32, e int32, key []byte, gen uint8) {
	p := t.keyPtr(e)
	for i := 0; i < len(key); i += 8 {
		atomic.StoreUint64((*uint64)(unsafe.Add(p, i)), keyWord(key[i:min(i+8, len(key))]))
	}
	r := t.rec(e)
	atomic.StoreUint32(&r.hash, h)
	atomic.StoreInt32(&r.next, t.heads[b])
	t.inChain[e] = gen
	atomic.StoreInt32(&t.heads[b], e)
}

// unlink removes e from bucket b; the caller holds the write lock.
func (t *table) unlink(b uint32, e int32) {
	if t.inChain[e] == 0 {
		return
	}
	t.writeBegin(b)
	t.unlinkIn(b, e)
	t.writeEnd(b)
}

// unlinkIn is unlink of a linked element inside a writeBegin/writeEnd
// window the caller opened.
func (t *table) unlinkIn(b uint32, e int32) {
	t.inChain[e] = 0
	next := t.next(e)
	if t.heads[b] == e {
		atomic.StoreInt32(&t.heads[b], next)
		return
	}
	for p := t.heads[b]; p >= 0; p = t.next(p) {
		if r := t.rec(p); r.next == e {
			atomic.StoreInt32(&r.next, next)
			return
		}
	}
}

// replace puts element e, which holds key's new value and is not linked,
// in the place of element old, which holds key in bucket b: e is linked
// ahead of old as old's next generation, then old is unlinked. Lookups
// find old until e is linked and e from then on, never a value being
// written; in a map memory file, a kill between the two steps leaves both
// marked in use, and restore keeps the later generation (filekeyed.go).
// The caller holds the bucket's write lock and then owns old.
func (t *table) replace(b uint32, h uint32, old, e int32, key []byte) {
	t.writeBegin(b) // one window for both steps
	t.linkIn(b, h, e, key, nextGen(t.inChain[old]))
	t.unlinkIn(b, old)
	t.writeEnd(b)
}

// nextGen is the generation after g: 1, 2, 3, 1, ... Two elements in use
// with one key are an element and its replacement, so the one whose
// generation follows the other's is the newer.
func nextGen(g uint8) uint8 { return g%3 + 1 }

// alloc pops a free element, -1 if none; the caller holds t.mu.
func (t *table) alloc() int32 {
	n := len(t.free)
	if n == 0 {
		return -1
	}
	e := t.free[n-1]
	t.free = t.free[:n-1]
	return e
}

// release returns e to the free stack; the caller holds t.mu.
func (t *table) release(e int32) { t.free = append(t.free, e) }

// nextKey copies the key after key into out, or the first key if key is nil
// or absent (Linux's order: rest of the key's chain, then later buckets).
func (t *table) nextKey(key, out []byte) bool {
	start := uint32(0)
	if key != nil {
		h := t.hash(key)
		b := h & t.mask
		l := t.lock(b)
		l.RLock()
		if e := t.find(b, h, key); e >= 0 {
			if n := t.next(e); n >= 0 {
				copy(out, t.key(n))
				l.RUnlock()
				return true
			}
			start = b + 1
		}
		l.RUnlock()
	}
	for b := uint64(start); b <= uint64(t.mask); b++ {
		if atomic.LoadInt32(&t.heads[b]) < 0 {
			continue
		}
		l := t.lock(uint32(b))
		l.RLock()
		if e := t.heads[b]; e >= 0 {
			copy(out, t.key(e))
			l.RUnlock()
			return true
		}
		l.RUnlock()
	}
	return false
}

// forEach calls fn with the elements of every bucket, without holding a
// lock during fn (fn may update or delete). It stops when fn returns false
// and returns the number of calls. charge, if not nil, is told how many
// buckets were visited, every scanBatch buckets and at the end; the walk
// stops when it returns false.
func (t *table) forEach(charge func(buckets uint64) bool, fn func(e int32) bool) int64 {
	var n int64
	var batch [16]int32
	for b := uint64(0); b <= uint64(t.mask); b++ {
		if charge != nil && b%scanBatch == scanBatch-1 && !charge(scanBatch) {
			return n
		}
		if atomic.LoadInt32(&t.heads[b]) < 0 {
			continue
		}
		l := t.lock(uint32(b))
		for skip := 0; ; {
			l.RLock()
			e := t.heads[b]
			for i := 0; i < skip && e >= 0; i++ {
				e = t.next(e)
			}
			cnt := 0
			for ; e >= 0 && cnt < len(batch); e = t.next(e) {
				batch[cnt] = e
				cnt++
			}
			more := e >= 0
			l.RUnlock()
			for _, x := range batch[:cnt] {
				n++
				if !fn(x) {
					return n
				}
			}
			if !more {
				break
			}
			skip += cnt
		}
	}
	if charge != nil {
		charge((uint64(t.mask) + 1) % scanBatch)
	}
	return n
}

// scanBatch is how many buckets forEach visits between two charges.
const scanBatch = 256

// hash hashes a key with the table's seed: a multiply-mix over 8-byte
// words, fast for the short keys maps use.
func (t *table) hash(key []byte) uint32 { return uint32(hashBytes(t.seed, key)) }

const (
	hashK0 = 0xa0761d6478bd642f
	hashK1 = 0xe7037ed1a0b428db
	hashK2 = 0x8ebc6af09c88c6e3
)

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func hashBytes(seed uint64, b []byte) uint64 {
	h := seed ^ uint64(len(b))*hashK0
	for len(b) >= 8 {
		h = mix(h^binary.LittleEndian.Uint64(b), hashK1)
		b = b[8:]
	}
	if len(b) > 0 {
		var w uint64
		for i, c := range b {
			w |= uint64(c) << (8 * i)
		}
		h = mix(h^w, hashK2)
	}
	return mix(h, hashK0^hashK2)
}
