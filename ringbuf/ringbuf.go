// Package ringbuf reads the records programs write into a BPF_MAP_TYPE_RINGBUF
// map, in the shape of cilium/ebpf's ringbuf package: NewReader, Read,
// ReadInto, SetDeadline, Flush, Close. Records come out in the order they were
// committed; discarded records are skipped.
package ringbuf

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/maps"
)

// ErrClosed is returned by reads on a closed Reader (or a closed map). It
// wraps os.ErrClosed, which cilium/ebpf's ringbuf.ErrClosed is, so that
// errors.Is(err, os.ErrClosed) holds as it does there.
var ErrClosed = fmt.Errorf("ring buffer reader closed: %w", os.ErrClosed)

// Record is one record of the ring buffer.
type Record struct {
	// RawSample is the record's data, as the program wrote it.
	RawSample []byte
	// Remaining is how many bytes of committed data are left to read.
	Remaining int
}

// Reader consumes a ring buffer. One goroutine reads at a time; Close may be
// called from any goroutine and wakes a blocked Read, Flush too.
type Reader struct {
	rb       *maps.RingBufMap
	mu       sync.Mutex
	deadline time.Time
	closed   chan struct{}
	once     sync.Once
	flush    atomic.Bool // Flush was called; the read that drains clears it
}

// NewReader returns a reader of m, which must be a ring buffer map.
func NewReader(m *bpfhost.Map) (*Reader, error) {
	if _, err := m.Info(); err != nil {
		return nil, err // a closed handle
	}
	rb, ok := m.Unwrap().(*maps.RingBufMap)
	if !ok {
		return nil, fmt.Errorf("map %q is a %s, not a ring buffer", m.Name(), m.Type())
	}
	return &Reader{rb: rb, closed: make(chan struct{})}, nil
}

// SetDeadline makes Read and ReadInto return an error wrapping
// os.ErrDeadlineExceeded when no record arrives before t; the zero time
// waits forever.
func (r *Reader) SetDeadline(t time.Time) {
	r.mu.Lock()
	r.deadline = t
	r.mu.Unlock()
}

// Read waits for the next record and returns it.
func (r *Reader) Read() (Record, error) {
	var rec Record
	err := r.ReadInto(&rec)
	return rec, err
}

// ErrFlushed is returned by the read that finds no record left after Flush.
var ErrFlushed = errors.New("ring buffer flushed")

// Flush makes a blocked Read (within pollInterval) and the reads after it
// return the records committed so far without waiting, then ErrFlushed once;
// reads after that wait again, as cilium/ebpf's Flush does.
func (r *Reader) Flush() error {
	r.flush.Store(true)
	return nil
}

// pollInterval bounds how long a blocked read waits before looking at Close
// and Flush.
const pollInterval = 50 * time.Millisecond

// ReadInto waits for the next record and stores it in rec, reusing its
// buffer.
func (r *Reader) ReadInto(rec *Record) error {
	r.mu.Lock()
	deadline := r.deadline
	r.mu.Unlock()
	for {
		select {
		case <-r.closed:
			return ErrClosed
		default:
		}
		if r.flush.Load() {
			if data, ok := r.rb.TryRead(rec.RawSample[:0]); ok {
				rec.RawSample = data
				rec.Remaining = r.AvailableBytes()
				return nil
			}
			r.flush.Store(false)
			return ErrFlushed
		}
		wait := time.Now().Add(pollInterval)
		if !deadline.IsZero() && deadline.Before(wait) {
			wait = deadline
		}
		data, err := r.rb.ReadInto(rec.RawSample[:0], wait)
		switch {
		case err == nil:
			rec.RawSample = data
			rec.Remaining = r.AvailableBytes()
			return nil
		case errors.Is(err, maps.ErrClosed):
			return ErrClosed
		case !errors.Is(err, os.ErrDeadlineExceeded):
			return err
		case !deadline.IsZero() && !time.Now().Before(deadline):
			return fmt.Errorf("ring buffer: %w", os.ErrDeadlineExceeded)
		}
	}
}

// BufferSize returns the size of the ring buffer's data area in bytes.
func (r *Reader) BufferSize() int { return r.rb.Size() }

// AvailableBytes returns how many bytes of committed records wait to be read.
func (r *Reader) AvailableBytes() int {
	return int(r.rb.Query(0)) // BPF_RB_AVAIL_DATA
}

// Close stops the reader; a blocked Read returns ErrClosed. The map stays
// usable.
func (r *Reader) Close() error {
	r.once.Do(func() { close(r.closed) })
	return nil
}
