package daemon

import (
	"context"
	"errors"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/ringbuf"
)

// EventStream reads the records of a ring buffer (bpftool map event_pipe).
// It holds the map's object alive until Close, as an open file descriptor
// would.
type EventStream struct {
	rd      *ringbuf.Reader
	stop    chan struct{}
	release func()
}

// EventPipe opens a stream of a ring buffer's records; it ends when ctx
// does or Close is called.
func (d *Daemon) EventPipe(ctx context.Context, r api.Ref) (*EventStream, error) {
	m, release, err := d.mapFor(r)
	if err != nil {
		return nil, err
	}
	if m.m.Type() != bpfhost.MapRingBuf {
		release()
		return nil, errorf(api.CodeNotSupp, "map %q is a %s: event_pipe reads ring buffers (perf event arrays are not supported yet)", m.m.Name(), m.m.Type())
	}
	rd, err := ringbuf.NewReader(m.m)
	if err != nil {
		release()
		return nil, err
	}
	s := &EventStream{rd: rd, stop: make(chan struct{}), release: release}
	go func() {
		select {
		case <-ctx.Done():
			rd.Close()
		case <-s.stop:
		}
	}()
	return s, nil
}

// Next waits for the next record. At the end of the stream it returns
// ringbuf.ErrClosed.
func (s *EventStream) Next() ([]byte, error) {
	rec, err := s.rd.Read()
	return rec.RawSample, err
}

// Close ends the stream.
func (s *EventStream) Close() {
	close(s.stop)
	s.rd.Close()
	s.release()
}

// errStreamEnd reports whether err ends a stream normally.
func errStreamEnd(err error) bool { return errors.Is(err, ringbuf.ErrClosed) }
