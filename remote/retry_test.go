package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// scripted is a fake daemon that counts the requests it reads by path
// and, for the ones the script names, reads them and closes the
// connection without an answer (drop: a daemon that died after reading
// it) or answers and then closes the connection without saying so (hangUp:
// a daemon closing an idle connection).
type scripted struct {
	mu     sync.Mutex
	seen   map[string]int
	drop   map[string]int // path: the number of the request to drop (from 0)
	hangUp map[string]int // path: the number of the request after which to close
	closed chan struct{}  // a connection was hung up
	conns  int            // connections accepted
}

func serveScripted(t *testing.T, s *scripted) string {
	t.Helper()
	s.seen = map[string]int{}
	s.closed = make(chan struct{}, 16)
	sock := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	return sock
}

func (s *scripted) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		s.mu.Lock()
		n := s.seen[req.URL.Path]
		s.seen[req.URL.Path]++
		drop, hasDrop := s.drop[req.URL.Path]
		hangUp, hasHangUp := s.hangUp[req.URL.Path]
		s.mu.Unlock()
		if hasDrop && drop == n {
			return
		}
		body := "{}\n"
		if req.URL.Path == api.PathVersion {
			b, _ := json.Marshal(api.VersionInfo{API: api.Version})
			body = string(b)
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		if hasHangUp && hangUp == n {
			c.Close()
			s.closed <- struct{}{}
			return
		}
	}
}

func (s *scripted) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[path]
}

// TestNoResend: an update whose connection the daemon closes after
// reading it, before answering, fails and is not sent again (it may have
// been carried out); a call that only reads is sent again.
func TestNoResend(t *testing.T) {
	s := &scripted{drop: map[string]int{api.PathMapUpdate: 1}}
	c, err := Dial(serveScripted(t, s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	ref := api.Ref{ID: 1}
	if err := c.Update(ctx, ref, []byte{1}, []byte{2}, 0); err != nil {
		t.Fatalf("first update: %v", err)
	}
	if err := c.Update(ctx, ref, []byte{1}, []byte{3}, 0); err == nil {
		t.Fatal("an update the daemon read and did not answer: no error")
	}
	if n := s.count(api.PathMapUpdate); n != 2 {
		t.Fatalf("the daemon read %d updates, want 2: the one it did not answer was sent again", n)
	}
	// A read-only call (map get) in the same case is sent again, on a new
	// connection.
	s.mu.Lock()
	s.drop[api.PathMapGet] = 0
	s.mu.Unlock()
	if err := c.Update(ctx, ref, []byte{1}, []byte{2}, 0); err != nil {
		t.Fatalf("third update: %v", err)
	}
	if _, err := c.Map(ctx, ref); err != nil {
		t.Fatalf("a map get the daemon dropped: %v, want it sent again", err)
	}
	if n := s.count(api.PathMapGet); n != 2 {
		t.Fatalf("the daemon read %d map gets, want 2 (the dropped one sent again)", n)
	}
}

// TestResendUnsent: an update on a pooled connection the daemon closed
// while it was idle is sent again on a new one: it never reached the
// daemon.
func TestResendUnsent(t *testing.T) {
	s := &scripted{hangUp: map[string]int{api.PathMapUpdate: 0}}
	c, err := Dial(serveScripted(t, s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	ref := api.Ref{ID: 1}
	if err := c.Update(ctx, ref, []byte{1}, []byte{2}, 0); err != nil {
		t.Fatalf("first update: %v", err)
	}
	<-s.closed
	if err := c.Update(ctx, ref, []byte{1}, []byte{3}, 0); err != nil {
		t.Fatalf("an update on a connection the daemon had closed: %v", err)
	}
	if n := s.count(api.PathMapUpdate); n != 2 {
		t.Fatalf("the daemon read %d updates, want 2", n)
	}
}

// TestPoolIdleExpiry: a pooled connection unused for maxIdleTime is
// closed rather than reused (the daemon closes idle connections later).
func TestPoolIdleExpiry(t *testing.T) {
	defer func(d time.Duration) { maxIdleTime = d }(maxIdleTime)
	maxIdleTime = 50 * time.Millisecond
	s := &scripted{}
	c, err := Dial(serveScripted(t, s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Map(ctx, api.Ref{ID: 1}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	before := s.conns
	s.mu.Unlock()
	time.Sleep(2 * maxIdleTime)
	if _, err := c.Map(ctx, api.Ref{ID: 1}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if before != 1 || s.conns != 2 {
		t.Fatalf("connections: %d, then %d after the pooled one idled past maxIdleTime; want 1, then 2", before, s.conns)
	}
}
