package daemon

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// short is a limit short enough for tests to pass it. A test sets the
// limit it tests to short and leaves the others unset (no limit): a
// request that must be answered is then not subject to 150 ms, which a
// busy machine can hold the test's client back for between its connect
// and its write.
const short = 150 * time.Millisecond

// dialRaw connects to sock with a deadline well past the limits'.
func dialRaw(t *testing.T, sock string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(settle))
	return c
}

// readToClose reads c until the daemon closes it, and fails the test if
// that does not happen before c's deadline (settle, from dialRaw).
func readToClose(t *testing.T, c net.Conn, what string) string {
	t.Helper()
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("%s: the daemon did not close the connection: %v after %q", what, err, b)
	}
	return string(b)
}

const versionRequest = "GET " + api.PathVersion + " HTTP/1.1\r\nHost: x\r\n\r\n"

// TestHeaderTimeout: a client that sends half of its headers and stalls
// gets 408 and its connection closed; one that connects and sends nothing
// is closed too.
func TestHeaderTimeout(t *testing.T) {
	sock, _ := serveLimits(t, Options{Engine: "interp"}, nil, ConnLimits{HeaderTimeout: short})
	c := dialRaw(t, sock)
	io.WriteString(c, "GET "+api.PathVersion+" HTTP/1.1\r\nHo")
	if b := readToClose(t, c, "half a header"); !strings.HasPrefix(b, "HTTP/1.1 408 ") {
		t.Fatalf("half a header: %q, want 408", b)
	}
	if b := readToClose(t, dialRaw(t, sock), "nothing sent"); b != "" {
		t.Fatalf("nothing sent: %q, want the connection closed", b)
	}
	// After a first request, the next one's headers are due too. The
	// first request, due from the accept, must be answered: a limit of
	// a second leaves the client that long between its connect and its
	// write.
	sock, _ = serveLimits(t, Options{Engine: "interp"}, nil, ConnLimits{HeaderTimeout: time.Second})
	c = dialRaw(t, sock)
	io.WriteString(c, versionRequest+"GET / HTTP/1.1\r\n")
	if b := readToClose(t, c, "half a second request"); !strings.HasPrefix(b, "HTTP/1.1 200 ") || !strings.Contains(b, "HTTP/1.1 408 ") {
		t.Fatalf("a request then half of one: %q, want 200 then 408", b)
	}
}

// TestBodyTimeout: a client that sends part of its body and stalls has its
// connection closed.
func TestBodyTimeout(t *testing.T) {
	sock, _ := serveLimits(t, Options{Engine: "interp"}, nil, ConnLimits{BodyTimeout: short})
	c := dialRaw(t, sock)
	io.WriteString(c, "POST "+api.PathMapGet+" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"map\":")
	if b := readToClose(t, c, "part of a body"); strings.HasPrefix(b, "HTTP/1.1 200 ") {
		t.Fatalf("part of a body: %q", b)
	}
}

// TestIdleTimeout: a kept-alive connection with no request is closed after
// the idle timeout, and the client goes on with a new one.
func TestIdleTimeout(t *testing.T) {
	sock, _ := serveLimits(t, Options{Engine: "interp"}, nil, ConnLimits{IdleTimeout: short})
	c := dialRaw(t, sock)
	io.WriteString(c, versionRequest)
	br := bufio.NewReader(c)
	r, err := http.ReadResponse(br, nil)
	if err != nil || r.StatusCode != http.StatusOK || r.Close {
		t.Fatalf("version: %v, %v", r, err)
	}
	io.Copy(io.Discard, r.Body)
	if _, err := br.Peek(1); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("an idle connection: %v, want it closed", err)
	}
	rc, err := remote.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	for range 3 {
		time.Sleep(2 * short)
		if _, err := rc.Maps(context.Background()); err != nil {
			t.Fatalf("a call after the daemon closed the idle connection: %v", err)
		}
	}
}

// TestConnCap: connections beyond MaxConnsPerUID, or beyond MaxConns, get
// 503 and are closed; one closing makes room for the next.
func TestConnCap(t *testing.T) {
	for _, lim := range []ConnLimits{{MaxConnsPerUID: 2}, {MaxConns: 2}} {
		if lim.MaxConnsPerUID > 0 {
			if _, err := peerOf(nil); err != nil && strings.Contains(err.Error(), "Linux only") {
				continue // no uid to count by
			}
		}
		sock, _ := serveLimits(t, Options{Engine: "interp"}, nil, lim)
		var open []net.Conn
		for range 2 {
			c := dialRaw(t, sock)
			io.WriteString(c, versionRequest)
			if r, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || r.StatusCode != http.StatusOK {
				t.Fatalf("%+v: a connection within the cap: %v, %v", lim, r, err)
			}
			open = append(open, c)
		}
		if b := readToClose(t, dialRaw(t, sock), "over the cap"); !strings.HasPrefix(b, "HTTP/1.1 503 ") || !strings.Contains(b, api.CodeAgain) {
			t.Fatalf("%+v: a third connection: %q, want 503", lim, b)
		}
		rc, err := remote.Dial(sock)
		var re *remote.Error
		if !errors.As(err, &re) || re.Code != api.CodeAgain || !errors.Is(err, remote.ErrAgain) {
			if rc != nil {
				rc.Close()
			}
			t.Fatalf("%+v: the remote client over the cap: %v, want the daemon's busy error", lim, err)
		}
		open[0].Close()
		// The daemon notices the close when its read fails: poll.
		for deadline := time.Now().Add(settle); ; {
			c := dialRaw(t, sock)
			io.WriteString(c, "GET "+api.PathVersion+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			b := readToClose(t, c, "after one closed")
			if strings.HasPrefix(b, "HTTP/1.1 200 ") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%+v: after one connection closed: %q", lim, b)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestEventPipePastDeadlines: an event pipe streams past every one of the
// connection's deadlines.
//
// Every limit is set, so the requests that set the pipe up are subject to
// them too: a second each leaves the client that long between its connect
// and its write, and the stream is then kept twice as long.
func TestEventPipePastDeadlines(t *testing.T) {
	lim := ConnLimits{HeaderTimeout: time.Second, BodyTimeout: time.Second, IdleTimeout: time.Second, WriteTimeout: time.Second}
	sock, _ := serveLimits(t, Options{Engine: "interp", Slots: 1}, nil, lim)
	c := dialTest(t, sock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obj, err := os.ReadFile("testdata/perf.o")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/pf", PinMaps: "/pfm"}); err != nil {
		t.Fatal(err)
	}
	got := make(chan api.Event, 16)
	done := make(chan error, 1)
	go func() {
		done <- c.Events(ctx, api.Ref{Pinned: "/pfm/samples"}, func(ev api.Event) error { got <- ev; return nil })
	}()
	run := func(mark byte) {
		pkt := make([]byte, 64)
		pkt[0] = mark
		if _, err := c.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/pf"}, DataIn: pkt}); err != nil {
			t.Fatal(err)
		}
	}
	firstEvent(t, func() { run(0) }, got)
	time.Sleep(2 * lim.BodyTimeout)
	run(7)
	for {
		select {
		case ev := <-got:
			if len(ev.Data) == 0 || ev.Data[0] != 7 {
				continue // an earlier run's
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("event pipe after cancel: %v", err)
			}
			return
		case err := <-done:
			t.Fatalf("the event pipe ended past the deadlines: %v", err)
		case <-time.After(settle):
			t.Fatal("a sample past the deadlines did not come")
		}
	}
}
