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
)

// Calls go over the client's own HTTP/1.1 connections rather than through
// net/http's Transport: a call writes its request and reads the answer on
// the calling goroutine, where the Transport hands each request to a writer
// and a reader goroutine per connection. Those hand-offs were most of a
// lookup's round trip on a busy machine (docs/daemon.md, "Speed");
// responses are parsed by http.ReadResponse. Event streams, which stay open, use the Transport.

// maxIdleConns bounds the connections kept open between calls.
const maxIdleConns = 16

// maxPrealloc bounds the memory set aside for an answer before its bytes
// arrive.
const maxPrealloc = 1 << 20

// conn is one connection to the daemon.
type conn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
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
	if n := len(p.idle); n > 0 {
		c = p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", p.socket)
	if err != nil {
		return nil, false, err
	}
	return &conn{c: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}, false, nil
}

// put keeps c for the next call.
func (p *pool) put(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle) >= maxIdleConns {
		c.c.Close()
		return
	}
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

// errNoAnswer marks a failure before any byte of the answer arrived on a
// reused connection: the daemon closed it while it was idle, so the
// request can be sent again on a new one.
var errNoAnswer = errors.New("connection closed before the answer")

// roundTrip sends one request and returns the status and body of the
// answer.
func (p *pool) roundTrip(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(ctx)
		if err != nil {
			return 0, nil, err
		}
		status, resp, keep, err := c.exchange(ctx, method, path, body)
		if err != nil {
			c.c.Close()
			if reused && attempt == 0 && errors.Is(err, errNoAnswer) && ctx.Err() == nil {
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
		return 0, nil, false, noAnswer(err)
	}
	if _, err := c.br.Peek(1); err != nil {
		return 0, nil, false, noAnswer(err)
	}
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
