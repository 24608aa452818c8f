package maps

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"unsafe"
)

// LPMTrieMap is BPF_MAP_TYPE_LPM_TRIE: keys are a host-endian u32 prefix
// length followed by KeySize-4 bytes of data (network order, most
// significant bit first). Lookups find the longest stored prefix that
// matches the key's first prefixlen bits; updates and deletes match
// exactly. Like Linux's, the trie is path-compressed: a node per stored
// prefix plus intermediate nodes where prefixes branch, so NextKey visits
// keys in the same (postorder) sequence as Linux. Nodes and values are
// preallocated; a reader-writer lock guards the structure, lookups share it.
type LPMTrieMap struct {
	base
	mu        sync.RWMutex
	dataSize  int
	maxPrefix uint32
	root      int32

	// Nodes, by index: 2*MaxEntries of them cover the worst case of one
	// intermediate node per stored prefix.
	plen  []uint32
	data  []byte // dataSize bytes per node
	child [][2]int32
	val   []int32 // value slot of a stored prefix; -1 marks intermediate nodes
	nfree []int32

	vals    valueOps
	vstride uintptr
	mem     []byte
	vfree   []int32
	count   uint32

	// In a map memory file, value slot v's key record (at v*recStride+8)
	// and in-use flag, from which restore rebuilds the trie; nil in
	// process memory.
	recs      []byte
	recStride uintptr
	inUse     []uint8
}

func newLPM(b base) *LPMTrieMap { return newLPMIn(b, nil) }

// newLPMIn is newLPM with the values, key records and in-use flags of the
// value slots in mem (a map memory file's), or the values in process
// memory if mem is nil.
func newLPMIn(b base, mem *entryMemory) *LPMTrieMap {
	s := &b.spec
	n := s.MaxEntries
	t := &LPMTrieMap{
		base:      b,
		dataSize:  int(s.KeySize) - 4,
		maxPrefix: 8 * (s.KeySize - 4),
		root:      -1,
		plen:      make([]uint32, 2*n),
		data:      make([]byte, 2*uint64(n)*uint64(s.KeySize-4)),
		child:     make([][2]int32, 2*n),
		val:       make([]int32, 2*n),
		nfree:     make([]int32, 2*n),
		vals:      newValueOps(s),
		vstride:   uintptr(round8(uint64(s.ValueSize))),
		vfree:     make([]int32, n),
	}
	if mem == nil {
		t.mem = slab(uint64(t.vstride) * uint64(n))
	} else {
		t.mem, t.recs, t.inUse = mem.values, mem.records, mem.inUse
		t.recStride = uintptr(recordStride(s.KeySize))
	}
	for i := range t.nfree {
		t.nfree[i] = int32(len(t.nfree) - 1 - i)
	}
	for i := range t.vfree {
		t.vfree[i] = int32(len(t.vfree) - 1 - i)
	}
	return t
}

func (t *LPMTrieMap) nodeData(n int32) []byte {
	off := int(n) * t.dataSize
	return t.data[off : off+t.dataSize]
}

func (t *LPMTrieMap) valPtr(v int32) unsafe.Pointer {
	return unsafe.Pointer(&t.mem[uintptr(v)*t.vstride])
}

// ValueMemory returns the memory of all values.
func (t *LPMTrieMap) ValueMemory() []byte { return t.mem }

func bit(data []byte, i uint32) int { return int(data[i/8]>>(7-i%8)) & 1 }

// matchLen is the number of leading bits a and b share, at most limit.
func matchLen(a, b []byte, limit uint32) uint32 {
	var n uint32
	for i := 0; n < limit; i++ {
		if x := a[i] ^ b[i]; x != 0 {
			n += uint32(bits.LeadingZeros8(x))
			break
		}
		n += 8
	}
	return min(n, limit)
}

// parseKey splits an LPM key; ok is false for a wrong size or a prefix
// longer than the data.
func (t *LPMTrieMap) parseKey(key []byte) (uint32, []byte, bool) {
	if len(key) != t.dataSize+4 {
		return 0, nil, false
	}
	plen := binary.NativeEndian.Uint32(key)
	return plen, key[4:], plen <= t.maxPrefix
}

// match is how many bits of (plen, data) node n matches, bounded by both
// prefix lengths.
func (t *LPMTrieMap) match(n int32, plen uint32, data []byte) uint32 {
	return matchLen(t.nodeData(n), data, min(t.plen[n], plen))
}

// longest returns the value slot of the longest stored prefix matching the
// key, or -1; the caller holds mu.
func (t *LPMTrieMap) longest(plen uint32, data []byte) int32 {
	found := int32(-1)
	for n := t.root; n >= 0; {
		m := t.match(n, plen, data)
		if m < t.plen[n] {
			break
		}
		if t.val[n] >= 0 {
			found = t.val[n]
		}
		if t.plen[n] == plen {
			break
		}
		n = t.child[n][bit(data, t.plen[n])]
	}
	return found
}

// LookupPtr returns the value of the longest matching prefix, or nil.
func (t *LPMTrieMap) LookupPtr(key []byte, _ int) unsafe.Pointer {
	plen, data, ok := t.parseKey(key)
	if !ok {
		return nil
	}
	t.mu.RLock()
	v := t.longest(plen, data)
	t.mu.RUnlock()
	if v < 0 {
		return nil
	}
	return t.valPtr(v)
}

// slot names a child pointer: parent -1 is the root pointer.
type lpmSlot struct {
	parent int32
	side   int
}

func (t *LPMTrieMap) get(s lpmSlot) int32 {
	if s.parent < 0 {
		return t.root
	}
	return t.child[s.parent][s.side]
}

func (t *LPMTrieMap) set(s lpmSlot, n int32) {
	if s.parent < 0 {
		t.root = n
		return
	}
	t.child[s.parent][s.side] = n
}

func (t *LPMTrieMap) newNode(plen uint32, data []byte, val int32) int32 {
	n := t.nfree[len(t.nfree)-1]
	t.nfree = t.nfree[:len(t.nfree)-1]
	t.plen[n] = plen
	copy(t.nodeData(n), data)
	t.child[n] = [2]int32{-1, -1}
	t.val[n] = val
	return n
}

func (t *LPMTrieMap) freeNode(n int32) { t.nfree = append(t.nfree, n) }

func (t *LPMTrieMap) newVal() int32 {
	v := t.vfree[len(t.vfree)-1]
	t.vfree = t.vfree[:len(t.vfree)-1]
	return v
}

// UpdateElem stores the value of an exact prefix.
func (t *LPMTrieMap) UpdateElem(key, value []byte, flags uint64, _ int) int64 {
	if r := t.progWrite(); r != 0 {
		return r
	}
	if len(value) < t.vals.size {
		return EINVAL.Ret()
	}
	return t.update(key, value[:t.vals.size], flags)
}

func (t *LPMTrieMap) update(key, value []byte, flags uint64) int64 {
	if flags > uint64(UpdateExist) {
		return EINVAL.Ret()
	}
	plen, data, ok := t.parseKey(key)
	if !ok {
		return EINVAL.Ret()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.put(plen, data, key, value, flags, -1)
}

// put stores the value of an exact prefix; the caller holds mu. slot < 0
// takes a free value slot and stores value and key in it; restore passes
// the slot that holds both already.
func (t *LPMTrieMap) put(plen uint32, data, key, value []byte, flags uint64, slot int32) int64 {
	// Walk down while the node is a proper prefix of the key.
	s := lpmSlot{parent: -1}
	var m uint32
	n := t.root
	for n >= 0 {
		m = t.match(n, plen, data)
		if t.plen[n] != m || t.plen[n] == plen {
			break
		}
		s = lpmSlot{parent: n, side: bit(data, t.plen[n])}
		n = t.get(s)
	}
	exact := n >= 0 && t.plen[n] == plen && m == plen
	if exact && t.val[n] >= 0 {
		if flags == uint64(UpdateNoExist) {
			return EEXIST.Ret()
		}
		old := t.val[n]
		if len(t.vfree) == 0 {
			// Full: in place (no slot to swap in).
			t.vals.store(t.valPtr(old), value)
			return 0
		}
		// A fresh slot replaces the old one, as Linux replaces the
		// node: a program holding the old value never sees it half
		// written, nor does a memory file after a kill (restore keeps
		// the later generation if both are marked in use).
		v := t.newVal()
		t.vals.store(t.valPtr(v), value)
		if t.inUse != nil {
			t.record(v, key, nextGen(t.inUse[old]))
			t.inUse[old] = 0
		}
		t.val[n] = v
		t.vfree = append(t.vfree, old)
		return 0
	}
	if flags == uint64(UpdateExist) {
		return ENOENT.Ret()
	}
	if t.count == t.spec.MaxEntries {
		return ENOSPC.Ret()
	}
	t.count++
	v := slot
	if v < 0 {
		v = t.newVal()
		t.vals.store(t.valPtr(v), value)
		t.record(v, key, 1)
	}
	switch {
	case exact: // an intermediate node becomes a stored prefix
		t.val[n] = v
	case n < 0: // empty slot
		t.set(s, t.newNode(plen, data, v))
	case m == plen: // the key is a prefix of n: it goes above n
		nn := t.newNode(plen, data, v)
		t.child[nn][bit(t.nodeData(n), plen)] = n
		t.set(s, nn)
	default: // they diverge after m bits: branch in an intermediate node
		nn := t.newNode(plen, data, v)
		im := t.newNode(m, data, -1)
		t.child[im][bit(t.nodeData(n), m)] = n
		t.child[im][bit(data, m)] = nn
		t.set(s, im)
	}
	return 0
}

// DeleteElem removes an exact prefix.
func (t *LPMTrieMap) DeleteElem(key []byte) int64 {
	if r := t.progWrite(); r != 0 {
		return r
	}
	return t.remove(key)
}

func (t *LPMTrieMap) remove(key []byte) int64 {
	plen, data, ok := t.parseKey(key)
	if !ok {
		return EINVAL.Ret()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ps := lpmSlot{parent: -1}, lpmSlot{parent: -1} // n's slot and its parent's slot
	parent := int32(-1)
	var m uint32
	n := t.root
	for n >= 0 {
		m = t.match(n, plen, data)
		if t.plen[n] != m || t.plen[n] == plen {
			break
		}
		parent, ps = n, s
		s = lpmSlot{parent: n, side: bit(data, t.plen[n])}
		n = t.get(s)
	}
	if n < 0 || t.plen[n] != plen || m != plen || t.val[n] < 0 {
		return ENOENT.Ret()
	}
	t.count--
	if t.inUse != nil {
		t.inUse[t.val[n]] = 0
	}
	t.vfree = append(t.vfree, t.val[n])
	c := t.child[n]
	switch {
	case c[0] >= 0 && c[1] >= 0: // still needed to branch
		t.val[n] = -1
	case c[0] < 0 && c[1] < 0 && parent >= 0 && t.val[parent] < 0:
		// A leaf under an intermediate node: the sibling replaces both.
		t.set(ps, t.child[parent][1-s.side])
		t.freeNode(n)
		t.freeNode(parent)
	default: // zero or one child takes n's place
		next := c[0]
		if next < 0 {
			next = c[1]
		}
		t.set(s, next)
		t.freeNode(n)
	}
	return 0
}

// ForEach is not supported: Linux has no bpf_for_each_map_elem for tries.
func (t *LPMTrieMap) ForEach(int, func(key, value unsafe.Pointer) bool) int64 {
	return EOPNOTSUPP.Ret()
}

// Lookup copies the value of the longest prefix matching key.
func (t *LPMTrieMap) Lookup(key, valueOut []byte) error {
	const op = "lookup"
	if err := t.userRead(op); err != nil {
		return err
	}
	if err := t.checkKey(op, key); err != nil {
		return err
	}
	if err := t.checkValue(op, valueOut); err != nil {
		return err
	}
	plen, data, ok := t.parseKey(key)
	if !ok {
		return opError(t.spec.Name, op, ENOENT, "")
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	v := t.longest(plen, data)
	if v < 0 {
		return opError(t.spec.Name, op, ENOENT, "")
	}
	t.vals.load(valueOut, t.valPtr(v))
	return nil
}

// Update stores the value of an exact prefix: ENOSPC when full, EINVAL for
// a prefix longer than the data.
func (t *LPMTrieMap) Update(key, value []byte, flags UpdateFlags) error {
	const op = "update"
	if err := t.userWrite(op); err != nil {
		return err
	}
	if err := t.checkKey(op, key); err != nil {
		return err
	}
	if err := t.checkValue(op, value); err != nil {
		return err
	}
	return retErr(t.spec.Name, op, t.update(key, value, uint64(flags)))
}

// Delete removes an exact prefix.
func (t *LPMTrieMap) Delete(key []byte) error {
	const op = "delete"
	if err := t.userWrite(op); err != nil {
		return err
	}
	if err := t.checkKey(op, key); err != nil {
		return err
	}
	return retErr(t.spec.Name, op, t.remove(key))
}

// LookupAndDelete is not supported by tries.
func (t *LPMTrieMap) LookupAndDelete(key, valueOut []byte) error {
	return notSupported(&t.base, "lookup and delete", ENOTSUPP)
}

// NextKey returns the key after key in postorder (longer prefixes before
// the shorter ones that contain them, the 0 branch before the 1 branch),
// the first one if key is nil or not stored.
func (t *LPMTrieMap) NextKey(key, nextOut []byte) error {
	const op = "next key"
	if err := t.userRead(op); err != nil {
		return err
	}
	if err := t.checkKey(op, nextOut); err != nil {
		return err
	}
	if key != nil {
		if err := t.checkKey(op, key); err != nil {
			return err
		}
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	next := t.next(key)
	if next < 0 {
		return opError(t.spec.Name, op, ENOENT, "")
	}
	binary.NativeEndian.PutUint32(nextOut, t.plen[next])
	copy(nextOut[4:], t.nodeData(next))
	return nil
}

func (t *LPMTrieMap) next(key []byte) int32 {
	if t.root < 0 {
		return -1
	}
	plen, data, ok := t.parseKey(key)
	if key == nil || !ok {
		return t.leftmost(t.root)
	}
	var path []int32
	var m uint32
	n := t.root
	for n >= 0 {
		path = append(path, n)
		m = t.match(n, plen, data)
		if t.plen[n] != m || t.plen[n] == plen {
			break
		}
		n = t.child[n][bit(data, t.plen[n])]
	}
	if n < 0 || t.plen[n] != plen || m != plen || t.val[n] < 0 {
		return t.leftmost(t.root)
	}
	// Postorder successor: the right sibling subtree's first node, else
	// the parent if it is a stored prefix, else further up.
	for i := len(path) - 1; i > 0; i-- {
		node, parent := path[i], path[i-1]
		if t.child[parent][0] == node && t.child[parent][1] >= 0 {
			return t.leftmost(t.child[parent][1])
		}
		if t.val[parent] >= 0 {
			return parent
		}
	}
	return -1
}

// leftmost returns the first stored prefix of n's subtree in postorder.
func (t *LPMTrieMap) leftmost(n int32) int32 {
	found := int32(-1)
	for n >= 0 {
		if t.val[n] >= 0 {
			found = n
		}
		if c := t.child[n][0]; c >= 0 {
			n = c
		} else {
			n = t.child[n][1]
		}
	}
	return found
}
