package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// Calls go over the client's own HTTP/1.1 connections rather than through
// net/http's Transport: a call writes its request and reads the answer on
// the calling goroutine, where the Transport hands each request to a writer
// and a reader goroutine per connection. Those hand-offs were most of a
// lookup's round trip on a busy machine (docs/daemon.md, "Speed");
// responses are parsed by http.ReadResponse. Event streams, which stay open, use the Transport.

// maxIdleConns bounds the connections kept open between calls.
const maxIdleConns = 16

// maxIdleTime (a variable for tests) is how long a connection stays in the pool unused: less
// than the daemon's idle timeout (daemon.DefaultConnLimits), so that the
// pool does not hand out a connection the daemon is closing.
var maxIdleTime = time.Minute

// maxPrealloc bounds the memory set aside for an answer before its bytes
// arrive.
const maxPrealloc = 1 << 20

// conn is one connection to the daemon.
type conn struct {
	c     net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
	sent  int64     // bytes of the current request the socket took
	since time.Time // when it went back to the pool
}

// countWriter is a connection as its bufio.Writer writes it, counting
// the bytes sent.
type countWriter struct{ c *conn }

func (w countWriter) Write(p []byte) (int, error) {
	n, err := w.c.c.Write(p)
	w.c.sent += int64(n)
	return n, err
}

// pool holds a client's idle connections.
type pool struct {
	socket string
	mu     sync.Mutex
	idle   []*conn
	closed bool
}

// get returns an idle connection, or a new one (reused false).
func (p *pool) get(ctx context.Context) (c *conn, reused bool, err error) {
	p.mu.Lock()
	for n := len(p.idle); n > 0; n-- {
		c = p.idle[n-1]
		p.idle = p.idle[:n-1]
		if time.Since(c.since) < maxIdleTime {
			p.mu.Unlock()
			return c, true, nil
		}
		c.c.Close()
	}
	p.mu.Unlock()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", p.socket)
	if err != nil {
		return nil, false, err
	}
	c = &conn{c: nc, br: bufio.NewReader(nc)}
	c.bw = bufio.NewWriter(countWriter{c})
	return c, false, nil
}

// put keeps c for the next call.
func (p *pool) put(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle) >= maxIdleConns {
		c.c.Close()
		return
	}
	c.since = time.Now()
	p.idle = append(p.idle, c)
}

// close closes the idle connections; connections in use are closed when
// their call ends.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle {
		c.c.Close()
	}
	p.idle, p.closed = nil, true
}

// errNoAnswer marks a connection that ended after the request was sent
// and before any byte of the answer arrived: the daemon closed it while it
// was idle, or it went (crashed, say) after reading the request, which it
// may then have carried out. Only a call that changes nothing is sent
// again.
var errNoAnswer = errors.New("connection closed before the answer")

// errNotSent marks a request of which the connection took no byte: the
// daemon had closed it (EPIPE), so it certainly saw nothing, and any call
// can be sent again.
var errNotSent = errors.New("connection closed before the request")

// readOnly are the POST calls that change nothing (the GET calls change
// nothing either): sending one again after its connection ended before
// the answer does no harm.
var readOnly = map[string]bool{
	api.PathProgGet:    true,
	api.PathProgDump:   true,
	api.PathProgJited:  true,
	api.PathMapGet:     true,
	api.PathMapLookup:  true,
	api.PathMapNextKey: true,
	api.PathMapDump:    true,
	api.PathMapPeek:    true,
	api.PathLinkGet:    true,
	api.PathNetShow:    true,
}

// idempotent reports whether a call can be sent again, as net/http's rule
// for requests: a GET, or a POST that only reads.
func idempotent(method, path string) bool {
	return method == http.MethodGet || readOnly[path]
}

// roundTrip sends one request and returns the status and body of the
// answer. When a pooled connection turns out closed, the request is sent
// again on a new one if it certainly did not reach the daemon or the call
// is idempotent; otherwise the call fails, never runs twice.
func (p *pool) roundTrip(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(ctx)
		if err != nil {
			return 0, nil, err
		}
		status, resp, keep, err := c.exchange(ctx, method, path, body)
		if err != nil {
			c.c.Close()
			retry := errors.Is(err, errNotSent) || errors.Is(err, errNoAnswer) && idempotent(method, path)
			if reused && attempt == 0 && retry && ctx.Err() == nil {
				continue
			}
			if ctx.Err() != nil {
				return 0, nil, ctx.Err()
			}
			return 0, nil, err
		}
		if keep {
			p.put(c)
		} else {
			c.c.Close()
		}
		return status, resp, nil
	}
}

// exchange writes a request and reads its answer on c; keep reports
// whether c can carry another request.
func (c *conn) exchange(ctx context.Context, method, path string, body []byte) (status int, resp []byte, keep bool, err error) {
	// The end of ctx (not its deadline, which could fire first) breaks
	// off the I/O, so that ctx.Err() is set when it fails.
	c.c.SetDeadline(time.Time{})
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { c.c.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	c.sent = 0
	bw := c.bw
	bw.WriteString(method)
	bw.WriteString(" ")
	bw.WriteString(path)
	bw.WriteString(" HTTP/1.1\r\nHost: bpfhost\r\n")
	if body != nil {
		bw.WriteString("Content-Type: application/json\r\nContent-Length: ")
		bw.WriteString(strconv.Itoa(len(body)))
		bw.WriteString("\r\n")
	}
	bw.WriteString("\r\n")
	bw.Write(body)
	if err := bw.Flush(); err != nil {
		if c.sent > 0 && isReset(err) {
			// The daemon may have answered before the body was all
			// sent and closed the connection (E2BIG for a body over
			// the call's limit, which it does not read): that answer
			// is the call's.
			if _, perr := c.br.Peek(1); perr != nil {
				return 0, nil, false, err
			}
			return c.readAnswer()
		}
		if c.sent > 0 || !isReset(err) && !errors.Is(err, net.ErrClosed) {
			return 0, nil, false, err
		}
		// The daemon had closed the connection: it saw nothing of the
		// request, and may have said why before (503 when it has too
		// many connections): that answer is the call's.
		if _, perr := c.br.Peek(1); perr != nil {
			return 0, nil, false, fmt.Errorf("%w: %w", errNotSent, err)
		}
	} else if _, err := c.br.Peek(1); err != nil {
		return 0, nil, false, noAnswer(err)
	}
	return c.readAnswer()
}

// readAnswer reads an answer on c; keep reports whether c can carry
// another request.
func (c *conn) readAnswer() (status int, resp []byte, keep bool, err error) {
	r, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, nil, false, fmt.Errorf("daemon's answer: %w", err)
	}
	defer r.Body.Close()
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// The length is the peer's word: the body grows past the bound
		// only as it arrives.
		buf.Grow(int(min(r.ContentLength, maxPrealloc)))
	}
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return 0, nil, false, fmt.Errorf("daemon's answer: %w", err)
	}
	return r.StatusCode, buf.Bytes(), !r.Close, nil
}

// noAnswer marks err as happening before the answer began.
func noAnswer(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
		return fmt.Errorf("%w: %w", errNoAnswer, err)
	}
	return err
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
