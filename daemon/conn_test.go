package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestHeaderLimit: a request whose headers go past maxHeaderBytes gets 431
// and its connection closed, before the daemon holds more of it (and
// before any authorization: the peer may be one that is refused).
func TestHeaderLimit(t *testing.T) {
	sock, _ := serve(t, Options{Engine: "interp"}, nil)
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go func() {
		io.WriteString(c, "GET "+api.PathVersion+" HTTP/1.1\r\nHost: x\r\n")
		line := "X-Pad: " + strings.Repeat("a", 1000) + "\r\n"
		for range 2 << 20 / len(line) {
			if _, err := io.WriteString(c, line); err != nil {
				return // the daemon closed the connection
			}
		}
		io.WriteString(c, "\r\n")
	}()
	// The daemon closes the connection with headers unread: the read
	// may end with ECONNRESET after the answer.
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("%v after %q", err, b)
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 431 ") {
		t.Fatalf("2 MiB of headers: %q, want 431", b)
	}
}

// flakyListener fails its first Accept with EMFILE, as a daemon out of
// file descriptors sees it.
type flakyListener struct {
	net.Listener
	failed atomic.Bool
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if !l.failed.Swap(true) {
		return nil, &net.OpError{Op: "accept", Net: "unix", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// TestAcceptRetries: a temporary Accept error (EMFILE) does not end Serve,
// and so the daemon: the next client is served.
func TestAcceptRetries(t *testing.T) {
	d, err := New(Options{Engine: "interp", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sock := filepath.Join(t.TempDir(), "s.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(d, nil)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(&flakyListener{Listener: ul}) }()
	defer srv.Shutdown(context.Background())
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(settle))
	io.WriteString(c, "GET "+api.PathVersion+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(c)
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v after an EMFILE", err)
	default:
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 200 ") {
		t.Fatalf("after an EMFILE: %q", b)
	}
}

// TestRefusedPeerClosed: a refused peer's connection ends with its 403,
// also when it sent more requests on it.
func TestRefusedPeerClosed(t *testing.T) {
	sock, _ := serve(t, Options{}, func(p Peer) error { return errors.New("refused") })
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(settle))
	version := "GET " + api.PathVersion + " HTTP/1.1\r\nHost: x\r\n\r\n"
	io.WriteString(c, version+version)
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("%v after %q", err, b)
	}
	if n := strings.Count(string(b), "HTTP/1.1 403 "); n != 1 || !strings.Contains(string(b), "Connection: close") {
		t.Fatalf("a refused peer's two requests: %q, want one 403 and the connection closed", b)
	}
}
