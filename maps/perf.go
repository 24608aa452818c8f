package maps

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
)

// PerfEventArrayMap is BPF_MAP_TYPE_PERF_EVENT_ARRAY. In Linux its entries
// are perf events, one per CPU, each with a ring of samples that user space
// maps; here a PerfReader attaches a sample buffer to every entry, and
// Output (bpf_perf_event_output) appends to the buffer of the running slot.
// A full buffer drops the sample and counts it lost; the reader reports
// lost counts before the next sample of that entry, as PERF_RECORD_LOST does.
type PerfEventArrayMap struct {
	base
	bufs   []atomic.Pointer[perfBuf]
	mu     sync.Mutex // guards reader
	reader *PerfReader
}

// perfBuf is one entry's sample ring: records of an 8-byte header (u32
// length) and the data, charged as Linux charges them (perf header, u32
// size, data padded to 8 bytes) so the same buffer size loses the same
// samples.
type perfBuf struct {
	mu         sync.Mutex
	data       []byte // power-of-two size
	head, tail uint64 // write and read positions
	lost       uint64
	notify     chan struct{}
}

func newPerfEventArray(b base) *PerfEventArrayMap {
	return &PerfEventArrayMap{base: b, bufs: make([]atomic.Pointer[perfBuf], b.spec.MaxEntries)}
}

func perfCost(n int) uint64 { return 8 + round8(4+uint64(n)) }

// Output is bpf_perf_event_output from a program running on slot: flags'
// low 32 bits pick the entry (BPF_F_CURRENT_CPU: the slot's), and the
// sample is data followed by ctxData (the context bytes the helper copied
// for BPF_F_CTXLEN_MASK). It returns -E2BIG for an index out of range,
// -ENOENT if no reader is attached, -EOPNOTSUPP for another slot's entry
// (Linux only writes to the current CPU's event), -ENOSPC when the buffer
// is full.
func (p *PerfEventArrayMap) Output(slot int, flags uint64, data, ctxData []byte) int64 {
	if flags&^(PerfIndexMask|PerfCtxLenMask) != 0 {
		return EINVAL.Ret()
	}
	idx := flags & PerfIndexMask
	if idx == PerfCurrentCPU {
		idx = uint64(slot)
	}
	if idx >= uint64(len(p.bufs)) {
		return E2BIG.Ret()
	}
	b := p.bufs[idx].Load()
	if b == nil {
		return ENOENT.Ret()
	}
	if idx != uint64(slot) {
		return EOPNOTSUPP.Ret()
	}
	n := len(data) + len(ctxData)
	cost := perfCost(n)
	b.mu.Lock()
	size := uint64(len(b.data))
	if b.head-b.tail+cost > size {
		b.lost++
		b.mu.Unlock()
		return ENOSPC.Ret()
	}
	var hdr [8]byte
	binary.NativeEndian.PutUint32(hdr[:], uint32(n))
	pos := b.put(b.head, hdr[:])
	pos = b.put(pos, data)
	b.put(pos, ctxData)
	b.head += cost
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
	return 0
}

// put copies src into the ring at pos, wrapping, and returns the next position.
func (b *perfBuf) put(pos uint64, src []byte) uint64 {
	mask := uint64(len(b.data)) - 1
	for len(src) > 0 {
		k := copy(b.data[pos&mask:], src)
		src = src[k:]
		pos += uint64(k)
	}
	return pos
}

func (b *perfBuf) get(pos uint64, dst []byte) {
	mask := uint64(len(b.data)) - 1
	for len(dst) > 0 {
		k := copy(dst, b.data[pos&mask:])
		dst = dst[k:]
		pos += uint64(k)
	}
}

// PerfRecord is a sample or a report of lost samples.
type PerfRecord struct {
	// CPU is the entry (slot) the sample was written on.
	CPU int
	// RawSample is a copy of the sample's bytes.
	RawSample []byte
	// LostSamples, if not 0, says this many samples were dropped
	// because the buffer was full; RawSample is then empty.
	LostSamples uint64
}

// PerfReader reads the samples of every entry of a perf event array.
type PerfReader struct {
	m      *PerfEventArrayMap
	bufs   []*perfBuf
	notify chan struct{}
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex // one Read at a time
	next   int        // entry to look at first, for fairness
}

// NewReader attaches a buffer of perCPUBuffer bytes (rounded up to a power
// of two of at least PageSize) to every entry and returns the reader of
// them. One reader may be attached at a time (EBUSY otherwise); its Close
// detaches the buffers.
func (p *PerfEventArrayMap) NewReader(perCPUBuffer int) (*PerfReader, error) {
	const op = "new reader"
	if p.closed.Load() {
		return nil, p.errClosed(op)
	}
	if perCPUBuffer <= 0 {
		return nil, p.errorf(op, EINVAL, "buffer size %d, want > 0", perCPUBuffer)
	}
	size := max(nextPow2(uint64(perCPUBuffer)), PageSize)
	if size*uint64(len(p.bufs)) > MaxMemory {
		return nil, p.errorf(op, ENOMEM, "%d buffers of %d bytes exceed %d bytes", len(p.bufs), size, uint64(MaxMemory))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reader != nil {
		return nil, p.errorf(op, EBUSY, "a reader is attached")
	}
	r := &PerfReader{m: p, bufs: make([]*perfBuf, len(p.bufs)), notify: make(chan struct{}, 1), done: make(chan struct{})}
	for i := range r.bufs {
		r.bufs[i] = &perfBuf{data: make([]byte, size), notify: r.notify}
		p.bufs[i].Store(r.bufs[i])
	}
	p.reader = r
	return r, nil
}

// try returns the next record of any entry, starting after the last one
// read from so that a busy entry does not starve the others.
func (r *PerfReader) try() (PerfRecord, bool) {
	for i := range r.bufs {
		cpu := (r.next + i) % len(r.bufs)
		b := r.bufs[cpu]
		b.mu.Lock()
		if b.lost > 0 {
			rec := PerfRecord{CPU: cpu, LostSamples: b.lost}
			b.lost = 0
			b.mu.Unlock()
			r.next = cpu + 1
			return rec, true
		}
		if b.head == b.tail {
			b.mu.Unlock()
			continue
		}
		var hdr [8]byte
		b.get(b.tail, hdr[:])
		n := int(binary.NativeEndian.Uint32(hdr[:]))
		rec := PerfRecord{CPU: cpu, RawSample: make([]byte, n)}
		b.get(b.tail+8, rec.RawSample)
		b.tail += perfCost(n)
		b.mu.Unlock()
		r.next = cpu + 1
		return rec, true
	}
	return PerfRecord{}, false
}

// Read returns the next sample or lost-sample report, blocking until one
// is written, the deadline passes (an error wrapping
// os.ErrDeadlineExceeded; zero waits forever) or the reader or map is
// closed (ErrClosed).
func (r *PerfReader) Read(deadline time.Time) (PerfRecord, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return waitFor(r.notify, r.done, deadline, r.try, r.m.errClosed, r.m.spec.Name)
}

// Close detaches the buffers and wakes a blocked Read.
func (r *PerfReader) Close() error {
	r.once.Do(func() {
		r.m.mu.Lock()
		for i := range r.m.bufs {
			r.m.bufs[i].CompareAndSwap(r.bufs[i], nil)
		}
		if r.m.reader == r {
			r.m.reader = nil
		}
		r.m.mu.Unlock()
		close(r.done)
	})
	return nil
}

// Close closes the map and its reader.
func (p *PerfEventArrayMap) Close() error {
	p.closed.Store(true)
	p.mu.Lock()
	r := p.reader
	p.mu.Unlock()
	if r != nil {
		r.Close()
	}
	return nil
}

// Lookup is not supported: entries are perf events.
func (p *PerfEventArrayMap) Lookup(_, _ []byte) error {
	return notSupported(&p.base, "lookup", ENOTSUPP)
}

// Update is not supported: attach a reader with NewReader.
func (p *PerfEventArrayMap) Update(_, _ []byte, _ UpdateFlags) error {
	return notSupported(&p.base, "update (use NewReader)", EOPNOTSUPP)
}

// Delete is not supported: close the reader.
func (p *PerfEventArrayMap) Delete([]byte) error {
	return notSupported(&p.base, "delete (close the reader)", EOPNOTSUPP)
}

// LookupAndDelete is not supported.
func (p *PerfEventArrayMap) LookupAndDelete(_, _ []byte) error {
	return notSupported(&p.base, "lookup and delete", ENOTSUPP)
}

// NextKey iterates indexes like an array.
func (p *PerfEventArrayMap) NextKey(key, nextOut []byte) error {
	if err := p.userRead("next key"); err != nil {
		return err
	}
	return arrayNextKey(&p.base, uint32(len(p.bufs)), key, nextOut)
}
