package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// The server reads and answers each connection's requests on one goroutine,
// with net/http's parser (http.ReadRequest) and the API's handlers, but not
// net/http's server: that one starts a background read of the connection
// for every request and stops it after, two goroutine hand-offs per call
// that were a large part of a map lookup's round trip (docs/daemon.md,
// "Speed"). An answer is buffered and sent with its length; a streaming
// answer (an event pipe, which flushes) is chunked, and the connection
// then ends with it. A request line or headers that do not parse get 400
// and the connection is closed.

// ConnLimits bounds what a client's connection can hold of the daemon: the
// time it may take to send a request, the time it may stay idle, and how
// many connections are open. docs/daemon.md lists the defaults.
type ConnLimits struct {
	// HeaderTimeout bounds the time from a request's first byte (for a
	// connection's first request, from its accept) to the end of its
	// headers. A peer that stalls is closed, with 408 if it sent part of
	// a request.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the time from the end of a request's headers to
	// the end of its body, all of it: what the call reads, a wait for
	// room in the body budget, and what is dropped of the rest after the
	// answer. It is lifted when an answer starts streaming (an event
	// pipe), which has no deadline.
	BodyTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection.
	IdleTimeout time.Duration
	// WriteTimeout bounds the sending of an answer that is not a stream,
	// against a client that does not read it.
	WriteTimeout time.Duration
	// A zero or negative duration or number is no limit.
	//
	// MaxConns bounds the connections open at once, and MaxConnsPerUID
	// those of one user (SO_PEERCRED's uid). A connection beyond either
	// gets 503 (code EAGAIN) and is closed.
	MaxConns, MaxConnsPerUID int
	// MaxBodyBytes bounds the bytes of the request bodies over 64 KiB
	// being read and decoded at once, by all connections (bodylimits.go);
	// a request beyond it waits for room until its body deadline, then
	// gets 503 (code EAGAIN).
	MaxBodyBytes int64
}

// deadlineIn is the deadline d from now; none if d is not positive.
func deadlineIn(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// DefaultConnLimits are the limits of a new Server.
var DefaultConnLimits = ConnLimits{
	HeaderTimeout:  10 * time.Second,
	BodyTimeout:    30 * time.Second,
	IdleTimeout:    2 * time.Minute,
	WriteTimeout:   30 * time.Second,
	MaxConns:       512,
	MaxConnsPerUID: 128,
	MaxBodyBytes:   256 << 20,
}

// maxHeaderBytes bounds a request's line and headers, as net/http's
// server does by default: http.ReadRequest itself reads headers of any
// size, and a peer is only authorized after they are read.
const maxHeaderBytes = http.DefaultMaxHeaderBytes

// maxDrain is how much of a request body a handler left unread is read
// and dropped to keep the connection; beyond it the connection is closed.
const maxDrain = 256 << 10

// connTracker knows the server's listeners and connections, for Shutdown
// and the limits on their number.
type connTracker struct {
	mu        sync.Mutex
	shutdown  bool
	listeners map[net.Listener]bool
	conns     map[net.Conn]*connState
	perUID    map[uint32]int // open connections by the peer's uid
	idle      chan struct{}  // signalled when a request ends, during Shutdown
}

// connState is what the tracker knows of a connection.
type connState struct {
	active bool // a request is being served
	peer   Peer
	hasUID bool // peer was read (SO_PEERCRED)
}

// Serve accepts clients on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	t := &s.tracker
	t.mu.Lock()
	if t.shutdown {
		t.mu.Unlock()
		l.Close()
		return nil
	}
	t.listeners[l] = true
	t.mu.Unlock()
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			t.mu.Lock()
			shut := t.shutdown
			t.mu.Unlock()
			if shut {
				return nil
			}
			if retryAccept(err) {
				// As net/http's server: out of descriptors (EMFILE),
				// say, is waited out, not the end of the daemon.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accepting a client", "err", err, "retry in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		peer, perr := peerOf(c)
		switch t.add(c, peer, perr == nil, s.Limits) {
		case addShutdown:
			c.Close()
			return nil
		case addOverLimit:
			s.log.Warn("too many connections: refused one", "uid", peer.UID, "limit", s.Limits.MaxConns, "per uid", s.Limits.MaxConnsPerUID)
			busy(c)
			continue
		}
		go s.serveConn(c, peer, perr)
	}
}

// retryAccept reports whether Accept failed for a reason that passes:
// a timeout, or a temporary error such as EMFILE or ECONNABORTED.
func retryAccept(err error) bool {
	var te interface{ Temporary() bool }
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.As(err, &te) && te.Temporary()
}

// What add did with a connection.
const (
	added = iota
	addShutdown
	addOverLimit
)

// add registers a new, idle connection of peer (known if hasUID), within
// lim's bounds on their number.
func (t *connTracker) add(c net.Conn, peer Peer, hasUID bool, lim ConnLimits) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shutdown {
		return addShutdown
	}
	if lim.MaxConns > 0 && len(t.conns) >= lim.MaxConns ||
		hasUID && lim.MaxConnsPerUID > 0 && t.perUID[peer.UID] >= lim.MaxConnsPerUID {
		return addOverLimit
	}
	t.conns[c] = &connState{peer: peer, hasUID: hasUID}
	if hasUID {
		t.perUID[peer.UID]++
	}
	return added
}

// busy answers a connection beyond the limits with 503 and closes it. The
// connection is new, its socket's buffer empty: the write does not wait,
// and its deadline is only a guard.
func busy(c net.Conn) {
	msg, _ := json.Marshal(api.Error{Code: api.CodeAgain, Message: "the daemon has too many connections open (its own, or this user's): try again later"})
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(msg), msg)
	c.Close()
}

// setActive marks c serving a request or idle; starting one after
// Shutdown fails.
func (t *connTracker) setActive(c net.Conn, active bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if active && t.shutdown {
		return false
	}
	t.conns[c].active = active
	if !active && t.idle != nil {
		select {
		case t.idle <- struct{}{}:
		default:
		}
	}
	return true
}

func (t *connTracker) remove(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.conns[c]; st != nil && st.hasUID {
		if t.perUID[st.peer.UID]--; t.perUID[st.peer.UID] <= 0 {
			delete(t.perUID, st.peer.UID)
		}
	}
	delete(t.conns, c)
	if t.idle != nil {
		select {
		case t.idle <- struct{}{}:
		default:
		}
	}
}

// Shutdown stops accepting clients, ends the event pipes and waits for the
// other calls in progress; when ctx ends first, it closes their
// connections and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopStreams()
	t := &s.tracker
	t.mu.Lock()
	t.shutdown = true
	t.idle = make(chan struct{}, 1)
	for l := range t.listeners {
		l.Close()
	}
	t.mu.Unlock()
	for {
		t.mu.Lock()
		busy := 0
		for c, st := range t.conns {
			if st.active {
				busy++
			} else {
				c.Close()
			}
		}
		if busy == 0 {
			t.mu.Unlock()
			return nil
		}
		t.mu.Unlock()
		select {
		case <-t.idle:
		case <-ctx.Done():
			t.mu.Lock()
			for c := range t.conns {
				c.Close()
			}
			t.mu.Unlock()
			return ctx.Err()
		}
	}
}

// serveConn serves c's requests in order until it closes or fails; peer
// is its client, or perr why it is not known.
func (s *Server) serveConn(c net.Conn, peer Peer, perr error) {
	t := &s.tracker
	defer func() {
		c.Close()
		t.remove(c)
	}()
	base := context.Background()
	if perr != nil {
		base = context.WithValue(base, peerKey{}, perr)
	} else {
		base = context.WithValue(base, peerKey{}, peer)
	}
	cr := &connReader{c: c, left: -1}
	br := bufio.NewReader(cr)
	bw := bufio.NewWriter(c)
	lim := s.Limits
	// The first request's headers are due within HeaderTimeout of the
	// accept: a peer that connects and sends nothing (a refused one, say)
	// holds its connection no longer than one that stalls in its headers.
	c.SetReadDeadline(deadlineIn(lim.HeaderTimeout))
	for first := true; ; first = false {
		if !first {
			c.SetReadDeadline(deadlineIn(lim.IdleTimeout))
		}
		if _, err := br.Peek(1); err != nil {
			return
		}
		if !first {
			c.SetReadDeadline(deadlineIn(lim.HeaderTimeout))
		}
		if !t.setActive(c, true) {
			return
		}
		keep := s.serveOne(c, cr, base, br, bw)
		t.setActive(c, false)
		if !keep {
			return
		}
	}
}

// serveOne reads one request from br and answers it; it reports whether
// the connection can carry another.
func (s *Server) serveOne(c net.Conn, cr *connReader, base context.Context, br *bufio.Reader, bw *bufio.Writer) (keep bool) {
	defer func() {
		// As net/http's server: a handler's panic ends its connection,
		// not the daemon.
		if r := recover(); r != nil {
			s.log.Error("panic serving a request", "panic", r, "stack", string(debug.Stack()))
			keep = false
		}
	}()
	// As net/http's server: the bufio.Reader's buffer on top of the limit.
	cr.left, cr.hit, cr.err = maxHeaderBytes+4096, false, nil
	req, err := http.ReadRequest(br)
	cr.left = -1
	if err != nil {
		c.SetWriteDeadline(deadlineIn(s.Limits.WriteTimeout))
		switch {
		case cr.hit:
			refuse(bw, "431 Request Header Fields Too Large", "request headers too large\n")
		case errors.Is(cr.err, os.ErrDeadlineExceeded):
			// (http.ReadRequest reports headers cut short as
			// malformed: the reader knows why.)
			s.log.Warn("a client's request headers took too long: closed", "limit", s.Limits.HeaderTimeout)
			refuse(bw, "408 Request Timeout", "request headers not sent in time\n")
		case !errors.Is(err, io.EOF):
			refuse(bw, "400 Bad Request", "malformed request\n")
		}
		return false
	}
	// One deadline bounds the whole body: its reading by the call and
	// the dropping of what the call left of it, after the answer.
	bodyDeadline := deadlineIn(s.Limits.BodyTimeout)
	c.SetReadDeadline(bodyDeadline)
	ctx, cancel := context.WithCancel(context.WithValue(base, bodyDeadlineKey{}, bodyDeadline))
	defer cancel()
	req = req.WithContext(ctx)
	req.RemoteAddr = "unix"
	if req.Header.Get("Expect") == "100-continue" && req.ContentLength != 0 {
		c.SetWriteDeadline(deadlineIn(s.Limits.WriteTimeout))
		bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		if bw.Flush() != nil {
			return false
		}
	}
	w := &answer{c: c, bw: bw, header: http.Header{}, closeAfter: req.Close, cancel: cancel, writeTimeout: s.Limits.WriteTimeout,
		head: req.Method == http.MethodHead}
	if req.ContentLength >= 0 && int64(br.Buffered()) == req.ContentLength {
		// The whole request is read: watch for the client going, so that
		// a call it gave up on (a killed "prog run ... repeat N") stops.
		w.stopWatch = cr.watchGone(cancel)
	}
	s.handler.ServeHTTP(w, req)
	w.endWatch()
	if err := w.finish(); err != nil || w.closeAfter {
		return false
	}
	// Drop what the handler left of the body, if it is small, within the
	// body's deadline: a slow sender does not get a second one after the
	// answer. A handler that took longer than the deadline (a load's
	// verification) leaves only what is buffered to drop: a call's body
	// is all read then, short of a client that sends more than it said.
	c.SetReadDeadline(bodyDeadline)
	if n, _ := io.CopyN(io.Discard, req.Body, maxDrain+1); n > maxDrain {
		return false
	}
	return req.Body.Close() == nil
}

// refuse answers a request that could not be read with status and msg,
// and the connection is then closed.
func refuse(bw *bufio.Writer, status, msg string) {
	fmt.Fprintf(bw, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", status, len(msg), msg)
	bw.Flush()
}

// connReader is a connection as its bufio.Reader reads it: while left is
// not negative, at most left more bytes, after which it reports EOF and
// hit (the limit of a request's headers); err is the last read's error.
type connReader struct {
	c    net.Conn
	left int64
	hit  bool
	err  error
	// pending holds what watchGone read: the start of a request the
	// client sent before the answer to the last one (pipelining).
	pending []byte
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		r.hit = true
		return 0, io.EOF
	}
	if r.left > 0 && int64(len(p)) > r.left {
		p = p[:r.left]
	}
	var n int
	var err error
	if len(r.pending) > 0 {
		n = copy(p, r.pending)
		r.pending = r.pending[n:]
	} else if n, err = r.c.Read(p); err != nil {
		r.err = err
	}
	if r.left > 0 {
		r.left -= int64(n)
	}
	return n, err
}

// watchGone reads the connection in the background while a request whose
// body is all buffered is handled, as net/http's server does: the client
// closing the connection (or dying) cancels the request, so that work it
// gave up on stops, as BPF_PROG_TEST_RUN stops when bpftool is killed.
// Nothing else reads the connection meanwhile (the handler reads the
// buffer). The returned stop ends the watch, before the answer is written
// or a stream starts reading the connection itself; a byte read meanwhile
// is kept for the next request.
func (r *connReader) watchGone(cancel context.CancelFunc) (stop func()) {
	r.c.SetReadDeadline(time.Time{}) // the body is in: its deadline is moot
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [1]byte
		n, err := r.c.Read(b[:])
		if n > 0 {
			r.pending = append(r.pending, b[:n]...) // read by the owner after done
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			cancel()
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.c.SetReadDeadline(time.Unix(1, 0))
			<-done
			r.c.SetReadDeadline(time.Time{})
		})
	}
}

// answer is the http.ResponseWriter of one request: the body is buffered
// and sent with its length, unless the handler flushes (a stream).
type answer struct {
	c          net.Conn
	bw         *bufio.Writer
	header     http.Header
	status     int
	body       bytes.Buffer
	streaming  bool
	closeAfter bool
	cancel     context.CancelFunc // ends the request's context
	stopWatch  func()             // ends connReader.watchGone's read, if any
	err        error
	// writeTimeout bounds the sending of a buffered answer.
	writeTimeout time.Duration
	// head: the request is a HEAD, whose answer has no body (its length
	// is still sent); a body would be read as the next answer.
	head bool
}

func (w *answer) Header() http.Header { return w.header }

func (w *answer) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *answer) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.err != nil {
		return 0, w.err
	}
	if !w.streaming {
		return w.body.Write(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	fmt.Fprintf(w.bw, "%x\r\n", len(p))
	w.bw.Write(p)
	_, w.err = w.bw.WriteString("\r\n")
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// writeHead writes the status line and headers, with the framing given.
func (w *answer) writeHead(framing string) {
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w.bw, "HTTP/1.1 %d %s\r\n", w.status, http.StatusText(w.status))
	if w.closeAfter {
		w.header.Set("Connection", "close")
	} else if w.header.Get("Connection") == "close" {
		w.closeAfter = true // the handler ends the connection
	}
	w.header.Write(w.bw)
	w.bw.WriteString(framing)
	w.bw.WriteString("\r\n")
}

// FlushError sends what was written so far and makes the answer a chunked
// stream; the connection ends with it. While it streams, the client
// closing the connection ends the request's context.
func (w *answer) FlushError() error {
	if w.err != nil {
		return w.err
	}
	if !w.streaming {
		w.endWatch() // the stream's own read below takes over
		// A stream lasts as long as its client wants: the request's
		// deadlines end here.
		w.c.SetDeadline(time.Time{})
		w.streaming, w.closeAfter = true, true
		w.writeHead("Transfer-Encoding: chunked\r\n")
		buffered := w.body.Bytes()
		w.body = bytes.Buffer{}
		if len(buffered) > 0 {
			w.Write(buffered)
		}
		// The client sends nothing more on a stream: a read returns
		// when it goes.
		go func() {
			var b [1]byte
			w.c.Read(b[:])
			w.cancel()
		}()
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
	}
	return w.err
}

// endWatch stops watching the connection for the client's going.
func (w *answer) endWatch() {
	if w.stopWatch != nil {
		w.stopWatch()
	}
}

// Flush is FlushError for http.Flusher.
func (w *answer) Flush() { w.FlushError() }

// finish sends the answer: the buffered body with its length, or the end
// of a stream.
func (w *answer) finish() error {
	if w.err != nil {
		return w.err
	}
	if w.streaming {
		w.bw.WriteString("0\r\n\r\n")
		return w.bw.Flush()
	}
	w.c.SetWriteDeadline(deadlineIn(w.writeTimeout))
	w.writeHead("Content-Length: " + strconv.Itoa(w.body.Len()) + "\r\n")
	if !w.head {
		w.bw.Write(w.body.Bytes())
	}
	return w.bw.Flush()
}
