package daemon

import (
	"context"
	"errors"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/perf"
	"github.com/bpfhost/bpfhost/ringbuf"
)

// PerfBufferSize is the sample buffer of each entry of a perf event array
// that an event pipe reads (bpftool's default is 8 pages per CPU).
const PerfBufferSize = 8 * 4096

// EventStream reads the records of a ring buffer or perf event array
// (bpftool map event_pipe). It holds the map's object alive until Close, as
// an open file descriptor would.
type EventStream struct {
	next    func() (api.Event, error)
	closeRd func()
	stop    chan struct{}
	release func()
}

// EventPipe opens a stream of a ring buffer's records or a perf event
// array's samples (and lost-sample reports); it ends when ctx does or
// Close is called. A perf event array has one reader at a time, as one
// bpftool event_pipe per map.
func (d *Daemon) EventPipe(ctx context.Context, r api.Ref) (*EventStream, error) {
	m, release, err := d.mapFor(r)
	if err != nil {
		return nil, err
	}
	s := &EventStream{stop: make(chan struct{}), release: release}
	switch m.m.Type() {
	case bpfhost.MapRingBuf:
		rd, err := ringbuf.NewReader(m.m)
		if err != nil {
			release()
			return nil, err
		}
		s.next = func() (api.Event, error) {
			rec, err := rd.Read()
			return api.Event{Data: rec.RawSample}, err
		}
		s.closeRd = func() { rd.Close() }
	case bpfhost.MapPerfEventArray:
		rd, err := perf.NewReader(m.m, PerfBufferSize)
		if err != nil {
			release()
			if errors.Is(err, perf.ErrBusy) {
				return nil, errorf(api.CodeBusy, "map %q: another event pipe reads it", m.m.Name())
			}
			return nil, err
		}
		s.next = func() (api.Event, error) {
			rec, err := rd.Read()
			cpu := rec.CPU
			return api.Event{Data: rec.RawSample, CPU: &cpu, Lost: rec.LostSamples}, err
		}
		s.closeRd = func() { rd.Close() }
	default:
		release()
		return nil, errorf(api.CodeNotSupp, "map %q is a %s: event_pipe reads ring buffers and perf event arrays", m.m.Name(), m.m.Type())
	}
	go func() {
		select {
		case <-ctx.Done():
			s.closeRd()
		case <-s.stop:
		}
	}()
	return s, nil
}

// Next waits for the next record. At the end of the stream it returns an
// error for which errStreamEnd is true.
func (s *EventStream) Next() (api.Event, error) { return s.next() }

// Close ends the stream.
func (s *EventStream) Close() {
	close(s.stop)
	s.closeRd()
	s.release()
}

// errStreamEnd reports whether err ends a stream normally.
func errStreamEnd(err error) bool {
	return errors.Is(err, ringbuf.ErrClosed) || errors.Is(err, bpfhost.ErrClosed)
}
