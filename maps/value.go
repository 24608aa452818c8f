package maps

import (
	"encoding/binary"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// Values are copied with 64-bit atomic loads and stores: programs update
// values in place with atomic instructions while user space reads them, and
// word-sized atomic copies keep both sides free of data races and of torn
// words (Linux copies with memcpy; a word never tears there either).

// slab allocates n bytes of zeroed, 8-byte aligned memory that never moves:
// Go's collector does not move heap objects.
func slab(n uint64) []byte {
	if n == 0 {
		return nil
	}
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

// loadBytes copies len(dst) bytes from p.
func loadBytes(dst []byte, p unsafe.Pointer) {
	off := int(uintptr(p) & 7)
	w := unsafe.Add(p, -off)
	for i := 0; i < len(dst); {
		if i > 0 {
			w = unsafe.Add(w, 8)
		}
		word := atomic.LoadUint64((*uint64)(w))
		if off == 0 && len(dst)-i >= 8 {
			binary.NativeEndian.PutUint64(dst[i:], word)
			i += 8
			continue
		}
		var buf [8]byte
		binary.NativeEndian.PutUint64(buf[:], word)
		i += copy(dst[i:], buf[off:])
		off = 0
	}
}

// storeBytes copies src to p; words only partly covered are merged with a
// compare-and-swap so that their other bytes are left alone.
func storeBytes(p unsafe.Pointer, src []byte) {
	off := int(uintptr(p) & 7)
	w := unsafe.Add(p, -off)
	for i := 0; i < len(src); {
		if i > 0 {
			w = unsafe.Add(w, 8)
		}
		wp := (*uint64)(w)
		if off == 0 && len(src)-i >= 8 {
			atomic.StoreUint64(wp, binary.NativeEndian.Uint64(src[i:]))
			i += 8
			continue
		}
		n := min(8-off, len(src)-i)
		for {
			old := atomic.LoadUint64(wp)
			var buf [8]byte
			binary.NativeEndian.PutUint64(buf[:], old)
			copy(buf[off:off+n], src[i:i+n])
			if atomic.CompareAndSwapUint64(wp, old, binary.NativeEndian.Uint64(buf[:])) {
				break
			}
		}
		i += n
		off = 0
	}
}

// zeroBytes clears n bytes at p.
func zeroBytes(p unsafe.Pointer, n int) {
	var zero [64]byte
	for n > 0 {
		k := min(n, len(zero))
		storeBytes(p, zero[:k])
		if n -= k; n > 0 {
			// Only step while inside the value: a pointer past the
			// end of an object is invalid in Go.
			p = unsafe.Add(p, k)
		}
	}
}

// valueOps copies values of one map in and out, leaving the special fields
// BTF places in the value alone: a bpf_spin_lock and a bpf_timer (Linux's
// copy_map_value skips them too).
type valueOps struct {
	size    int
	hasLock bool
	lockOff int
	// holes are the byte ranges of the special fields, sorted.
	holes []hole
}

// hole is a special field: bytes [off, off+size) of a value.
type hole struct{ off, size int }

// timerSize is sizeof(struct bpf_timer).
const timerSize = 16

func newValueOps(s *Spec) valueOps {
	v := valueOps{size: int(s.ValueSize), hasLock: s.HasSpinLock, lockOff: int(s.SpinLockOffset)}
	if s.HasSpinLock {
		v.holes = append(v.holes, hole{int(s.SpinLockOffset), 4})
	}
	if s.HasTimer {
		v.holes = append(v.holes, hole{int(s.TimerOffset), timerSize})
		if len(v.holes) == 2 && v.holes[1].off < v.holes[0].off {
			v.holes[0], v.holes[1] = v.holes[1], v.holes[0]
		}
	}
	return v
}

// load copies the value at p to dst (len(dst) == size); special fields
// read as 0.
func (v valueOps) load(dst []byte, p unsafe.Pointer) {
	loadBytes(dst, p)
	for _, h := range v.holes {
		clear(dst[h.off : h.off+h.size])
	}
}

// store copies src (len(src) == size) to the value at p.
func (v valueOps) store(p unsafe.Pointer, src []byte) {
	if len(v.holes) == 0 {
		storeBytes(p, src)
		return
	}
	at := 0
	for _, h := range v.holes {
		storeBytes(unsafe.Add(p, at), src[at:h.off])
		at = h.off + h.size
	}
	storeBytes(unsafe.Add(p, at), src[at:])
}

// storeLocked is store under the value's spin lock (BPF_F_LOCK).
func (v valueOps) storeLocked(p unsafe.Pointer, src []byte) {
	lock := unsafe.Add(p, v.lockOff)
	SpinLock(lock)
	v.store(p, src)
	SpinUnlock(lock)
}

// loadLocked is load under the value's spin lock.
func (v valueOps) loadLocked(dst []byte, p unsafe.Pointer) {
	lock := unsafe.Add(p, v.lockOff)
	SpinLock(lock)
	v.load(dst, p)
	SpinUnlock(lock)
}

// put stores src, under the lock if flags has BPF_F_LOCK.
func (v valueOps) put(p unsafe.Pointer, src []byte, flags uint64) {
	if flags&uint64(UpdateLock) != 0 {
		v.storeLocked(p, src)
		return
	}
	v.store(p, src)
}

// zero clears the value at p except its special fields.
func (v valueOps) zero(p unsafe.Pointer) {
	if len(v.holes) == 0 {
		zeroBytes(p, v.size)
		return
	}
	at := 0
	for _, h := range v.holes {
		zeroBytes(unsafe.Add(p, at), h.off-at)
		at = h.off + h.size
	}
	zeroBytes(unsafe.Add(p, at), v.size-at)
}

// SpinLock takes the struct bpf_spin_lock at p (a 4-byte word, 0 when
// free), the protocol bpf_spin_lock helpers and BPF_F_LOCK copies share.
func SpinLock(p unsafe.Pointer) {
	l := (*uint32)(p)
	for i := 0; !atomic.CompareAndSwapUint32(l, 0, 1); i++ {
		if i >= 16 {
			// The holder is a goroutine that may need this thread.
			runtime.Gosched()
		}
	}
}

// SpinUnlock releases the lock SpinLock took.
func SpinUnlock(p unsafe.Pointer) { atomic.StoreUint32((*uint32)(p), 0) }
