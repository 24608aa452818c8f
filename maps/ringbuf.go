package maps

import (
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Ring buffer record header bits (BPF_RINGBUF_*).
const (
	ringBusyBit    = 1 << 31
	ringDiscardBit = 1 << 30
	ringHeaderSize = 8
	ringMaxRecord  = (1<<32 - 1) / 4 // RINGBUF_MAX_RECORD_SZ
)

// RingBufMap is BPF_MAP_TYPE_RINGBUF: a multi-producer, single-consumer
// ring of MaxEntries bytes shared by all slots. Each record has an 8-byte
// header (u32 length with busy and discard bits, u32 page offset) and is
// padded to 8 bytes. Producers reserve under a lock and commit without
// one; the consumer (Read) copies committed records out in reservation
// order and stops at the first record still being written.
//
// Linux maps the data pages twice so a record that wraps past the end is
// contiguous; here the data area is allocated twice as large and a
// wrapping record simply runs on into the second half, where the consumer
// reads it.
type RingBufMap struct {
	base
	mu     sync.Mutex // serializes reservations
	data   []byte     // 2*size bytes
	mask   uint64
	cons   atomic.Uint64
	prod   atomic.Uint64
	notify chan struct{}
	done   chan struct{}
	once   sync.Once
	readMu sync.Mutex // one consumer at a time
}

func newRingBuf(b base) *RingBufMap {
	n := uint64(b.spec.MaxEntries)
	return &RingBufMap{
		base:   b,
		data:   slab(2 * n),
		mask:   n - 1,
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

func (r *RingBufMap) header(off uint64) *uint32 { return (*uint32)(unsafe.Pointer(&r.data[off])) }

// Reserve is bpf_ringbuf_reserve: it returns size bytes of record memory
// for the program to fill and then Submit or Discard, or nil if flags is
// not 0, the size is too big, or the ring lacks space.
func (r *RingBufMap) Reserve(size uint64, flags uint64) unsafe.Pointer {
	if flags != 0 || size > ringMaxRecord {
		return nil
	}
	n := round8(size + ringHeaderSize)
	r.mu.Lock()
	cons := r.cons.Load()
	prod := r.prod.Load()
	if prod+n-cons > r.mask {
		r.mu.Unlock()
		return nil
	}
	off := prod & r.mask
	atomic.StoreUint32(r.header(off), uint32(size)|ringBusyBit)
	atomic.StoreUint32(r.header(off+4), uint32(off/PageSize))
	r.prod.Store(prod + n)
	r.mu.Unlock()
	return unsafe.Pointer(&r.data[off+ringHeaderSize])
}

// recordOffset returns the header offset of a reserved record's data
// pointer, or false if p is not one.
func (r *RingBufMap) recordOffset(p unsafe.Pointer) (uint64, bool) {
	start := uintptr(unsafe.Pointer(&r.data[0]))
	a := uintptr(p)
	if a < start+ringHeaderSize || a-start > uintptr(r.mask)+ringHeaderSize || (a-start)%8 != 0 {
		return 0, false
	}
	off := uint64(a-start) - ringHeaderSize
	return off, atomic.LoadUint32(r.header(off))&ringBusyBit != 0
}

// Submit is bpf_ringbuf_submit: it commits a reserved record. It returns
// -EINVAL if p is not a reserved record (the verifier makes that
// impossible for verified programs).
func (r *RingBufMap) Submit(p unsafe.Pointer, flags uint64) int64 { return r.commit(p, flags, false) }

// Discard is bpf_ringbuf_discard: the consumer skips the record.
func (r *RingBufMap) Discard(p unsafe.Pointer, flags uint64) int64 { return r.commit(p, flags, true) }

func (r *RingBufMap) commit(p unsafe.Pointer, flags uint64, discard bool) int64 {
	off, ok := r.recordOffset(p)
	if !ok {
		return EINVAL.Ret()
	}
	h := r.header(off)
	w := atomic.LoadUint32(h) &^ ringBusyBit
	if discard {
		w |= ringDiscardBit
	}
	atomic.StoreUint32(h, w)
	// Like Linux: wake the consumer if asked to, or if it is waiting at
	// exactly this record (it consumed everything before it).
	switch {
	case flags&RingBufForceWakeup != 0:
		r.wake()
	case flags&RingBufNoWakeup != 0:
	case r.cons.Load()&r.mask == off:
		r.wake()
	}
	return 0
}

func (r *RingBufMap) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Output is bpf_ringbuf_output: reserve, copy data, submit. It returns
// -EAGAIN when the ring lacks space and -EINVAL for unknown flags.
func (r *RingBufMap) Output(data []byte, flags uint64) int64 {
	if flags&^(RingBufNoWakeup|RingBufForceWakeup) != 0 {
		return EINVAL.Ret()
	}
	p := r.Reserve(uint64(len(data)), 0)
	if p == nil {
		return EAGAIN.Ret()
	}
	copy(unsafe.Slice((*byte)(p), len(data)), data)
	return r.commit(p, flags, false)
}

// Query is bpf_ringbuf_query: available data, ring size, consumer or
// producer position; 0 for unknown flags.
func (r *RingBufMap) Query(flags uint64) uint64 {
	switch flags {
	case RingBufAvailData:
		return r.prod.Load() - r.cons.Load()
	case RingBufRingSize:
		return r.mask + 1
	case RingBufConsPos:
		return r.cons.Load()
	case RingBufProdPos:
		return r.prod.Load()
	}
	return 0
}

// DataMemory returns the memory records are reserved in, for registering
// it as a region of checked runs. It is twice the ring size: see the type's
// doc.
func (r *RingBufMap) DataMemory() []byte { return r.data }

// Size returns the ring's data size in bytes.
func (r *RingBufMap) Size() int { return int(r.mask + 1) }

// next copies the next committed record into buf and advances the consumer
// past it and any discarded records; ok is false if none is ready.
func (r *RingBufMap) next(buf []byte) ([]byte, bool) {
	cons, prod := r.cons.Load(), r.prod.Load()
	for cons < prod {
		off := cons & r.mask
		w := atomic.LoadUint32(r.header(off))
		if w&ringBusyBit != 0 {
			return nil, false
		}
		n := uint64(w &^ (ringBusyBit | ringDiscardBit))
		if n > r.mask+1-ringHeaderSize || cons+round8(n+ringHeaderSize) > prod {
			// No producer wrote this header: a checked run of an
			// unverified program can write anywhere in the data area (one
			// writable region: records lie anywhere in it). Nothing from
			// here to the producer can be trusted; drop it.
			r.cons.Store(prod)
			return nil, false
		}
		if w&ringDiscardBit == 0 {
			buf = append(buf[:0], r.data[off+ringHeaderSize:off+ringHeaderSize+n]...)
		}
		cons += round8(n + ringHeaderSize)
		r.cons.Store(cons)
		if w&ringDiscardBit == 0 {
			return buf, true
		}
	}
	return nil, false
}

// Read returns a copy of the next record, blocking until one is committed,
// the deadline passes (an error wrapping os.ErrDeadlineExceeded; a zero
// deadline waits forever) or the map is closed (ErrClosed). One Read runs
// at a time; producers may run concurrently.
func (r *RingBufMap) Read(deadline time.Time) ([]byte, error) {
	return r.ReadInto(nil, deadline)
}

// ReadInto is Read reusing buf's memory for the record.
func (r *RingBufMap) ReadInto(buf []byte, deadline time.Time) ([]byte, error) {
	r.readMu.Lock()
	defer r.readMu.Unlock()
	return waitFor(r.notify, r.done, deadline, func() ([]byte, bool) { return r.next(buf) }, func(op string) error {
		return r.errClosed(op)
	}, r.spec.Name)
}

// TryRead is ReadInto without waiting: it returns the next committed record
// (in buf's memory), or false if none is ready.
func (r *RingBufMap) TryRead(buf []byte) ([]byte, bool) {
	r.readMu.Lock()
	defer r.readMu.Unlock()
	return r.next(buf)
}

// waitFor polls try until it succeeds, sleeping on notify between tries,
// until the deadline or done.
func waitFor[T any](notify, done chan struct{}, deadline time.Time, try func() (T, bool), closed func(string) error, name string) (T, error) {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	for {
		if v, ok := try(); ok {
			return v, nil
		}
		select {
		case <-notify:
		case <-done:
			if v, ok := try(); ok {
				return v, nil
			}
			var zero T
			return zero, closed("read")
		case <-timeout:
			if v, ok := try(); ok {
				return v, nil
			}
			var zero T
			return zero, &mapError{name: name, op: "read", errno: EAGAIN, err: os.ErrDeadlineExceeded}
		}
	}
}

// Close wakes a blocked Read, which returns ErrClosed once the ring is drained.
func (r *RingBufMap) Close() error {
	r.closed.Store(true)
	r.once.Do(func() { close(r.done) })
	return nil
}

// Lookup is not supported by ring buffers.
func (r *RingBufMap) Lookup(_, _ []byte) error { return notSupported(&r.base, "lookup", ENOTSUPP) }

// Update is not supported by ring buffers.
func (r *RingBufMap) Update(_, _ []byte, _ UpdateFlags) error {
	return notSupported(&r.base, "update", ENOTSUPP)
}

// Delete is not supported by ring buffers.
func (r *RingBufMap) Delete([]byte) error { return notSupported(&r.base, "delete", ENOTSUPP) }

// LookupAndDelete is not supported by ring buffers.
func (r *RingBufMap) LookupAndDelete(_, _ []byte) error {
	return notSupported(&r.base, "lookup and delete", ENOTSUPP)
}

// NextKey is not supported by ring buffers.
func (r *RingBufMap) NextKey(_, _ []byte) error { return notSupported(&r.base, "next key", ENOTSUPP) }
