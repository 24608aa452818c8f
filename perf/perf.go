// Package perf reads the samples that programs write to a perf event array
// with bpf_perf_event_output, shaped like cilium/ebpf's perf package: a
// Reader attaches a buffer to every entry (execution slot) of the map and
// returns the samples of all of them, with reports of the samples lost
// because a buffer was full.
package perf

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/maps"
)

// ErrClosed is wrapped by the error of a read on a closed Reader or of a
// closed map, together with bpfhost.ErrClosed. It wraps os.ErrClosed, which
// cilium/ebpf's perf.ErrClosed is, so that errors.Is(err, os.ErrClosed) holds
// as it does there.
var ErrClosed = fmt.Errorf("perf reader closed: %w", os.ErrClosed)

// ErrBusy is the error NewReader wraps when the map already has a reader:
// a perf event array has one reader at a time.
var ErrBusy = errors.New("perf event array already has a reader")

// Record is a sample or a report of lost samples.
type Record struct {
	// CPU is the entry (execution slot) the sample was written on.
	CPU int
	// RawSample is a copy of the sample's bytes; empty for a report of
	// lost samples.
	RawSample []byte
	// LostSamples, if not 0, says this many samples were dropped because
	// the entry's buffer was full.
	LostSamples uint64
}

// Reader reads the samples of every entry of a perf event array.
type Reader struct {
	r        *maps.PerfReader
	mu       sync.Mutex
	deadline time.Time
}

// NewReader attaches a buffer of perCPUBuffer bytes (rounded up to a power
// of two of at least a page) to every entry of array and returns their
// reader. Close detaches the buffers. An error wraps ErrBusy if array
// already has a reader.
func NewReader(array *bpfhost.Map, perCPUBuffer int) (*Reader, error) {
	if _, err := array.Info(); err != nil {
		return nil, err // a closed handle
	}
	pm, ok := array.Unwrap().(*maps.PerfEventArrayMap)
	if !ok {
		return nil, fmt.Errorf("map %q is a %s, not a perf event array", array.Name(), array.Type())
	}
	r, err := pm.NewReader(perCPUBuffer)
	if err != nil {
		if maps.ErrnoOf(err) == maps.EBUSY {
			return nil, fmt.Errorf("%w: %w", ErrBusy, err)
		}
		return nil, err
	}
	return &Reader{r: r}, nil
}

// SetDeadline makes Read give up at t with an error wrapping
// os.ErrDeadlineExceeded; the zero time waits forever.
func (r *Reader) SetDeadline(t time.Time) {
	r.mu.Lock()
	r.deadline = t
	r.mu.Unlock()
}

// Read returns the next sample or lost-sample report, blocking until one
// is written, the deadline passes or the reader or map is closed (an error
// wrapping ErrClosed and bpfhost.ErrClosed).
func (r *Reader) Read() (Record, error) {
	var rec Record
	err := r.ReadInto(&rec)
	return rec, err
}

// ReadInto is Read storing the record in rec, reusing its sample buffer.
func (r *Reader) ReadInto(rec *Record) error {
	r.mu.Lock()
	deadline := r.deadline
	r.mu.Unlock()
	got, err := r.r.Read(deadline)
	if err != nil {
		if errors.Is(err, maps.ErrClosed) {
			return fmt.Errorf("%w: %w", ErrClosed, err)
		}
		return err
	}
	rec.CPU, rec.LostSamples = got.CPU, got.LostSamples
	rec.RawSample = append(rec.RawSample[:0], got.RawSample...)
	return nil
}

// Close detaches the buffers and wakes a blocked Read.
func (r *Reader) Close() error { return r.r.Close() }
