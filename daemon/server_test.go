package daemon

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// serveB is serve for benchmarks: a daemon with a state directory.
func serveB(b *testing.B) (string, *Daemon) {
	return serve(b, Options{StateDir: b.TempDir()}, nil)
}

// serve starts a daemon with a server on a socket in a temporary
// directory and returns the socket's path.
func serve(t testing.TB, opts Options, auth Authorizer) (string, *Daemon) {
	t.Helper()
	return serveLimits(t, opts, auth, DefaultConnLimits)
}

// serveLimits is serve with the server's connection limits lim.
func serveLimits(t testing.TB, opts Options, auth Authorizer, lim ConnLimits) (string, *Daemon) {
	t.Helper()
	sock, d, _ := serveWith(t, opts, auth, lim, nil)
	return sock, d
}

// serveWith is serveLimits that also returns the server, which setup (if
// not nil) may change before it serves.
func serveWith(t testing.TB, opts Options, auth Authorizer, lim ConnLimits, setup func(*Server)) (string, *Daemon, *Server) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(d, auth)
	srv.Limits = lim
	if setup != nil {
		setup(srv)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		d.Close()
	})
	return sock, d, srv
}

// TestConcurrentClients: 32 clients load, pin, update, look up, run and
// unpin at once (run it with -race); every counter ends where its client
// left it.
func TestConcurrentClients(t *testing.T) {
	sock, d := serve(t, Options{StateDir: t.TempDir(), Engine: "interp"}, nil)
	obj := counterObject(t)
	ctx := context.Background()
	const clients = 32
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- func() error {
				c, err := remote.Dial(sock)
				if err != nil {
					return err
				}
				defer c.Close()
				prog := fmt.Sprintf("/c%d/prog", i)
				if _, err := c.Load(ctx, api.LoadRequest{Object: obj, PinPath: prog, PinMaps: fmt.Sprintf("/c%d/maps", i)}); err != nil {
					return err
				}
				counts := api.Ref{Pinned: fmt.Sprintf("/c%d/maps/counts", i)}
				for k := uint32(0); k < 8; k++ {
					if err := c.Update(ctx, counts, u32(1000+k), u64(uint64(i)), 0); err != nil {
						return err
					}
				}
				if _, err := c.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: prog}, DataIn: make([]byte, 64), Repeat: 2}); err != nil {
					return err
				}
				v, err := c.Lookup(ctx, counts, u32(1003))
				if err != nil {
					return err
				}
				if binary.NativeEndian.Uint64(v) != uint64(i) {
					return fmt.Errorf("client %d reads %x", i, v)
				}
				if err := c.PinMap(ctx, counts, fmt.Sprintf("/shared/%d", i)); err != nil {
					return err
				}
				if i%2 == 0 {
					if err := c.Unpin(ctx, prog); err != nil {
						return err
					}
					// Its last pin: the map goes with it.
					if err := c.Unpin(ctx, fmt.Sprintf("/c%d/maps/total", i)); err != nil {
						return err
					}
				}
				_, err = c.Programs(ctx)
				return err
			}()
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(d.Programs()); n != clients/2 {
		t.Errorf("%d programs live, want %d", n, clients/2)
	}
	if n := len(d.Maps()); n != 3*clients/2 {
		t.Errorf("%d maps live, want %d", n, 3*clients/2)
	}
}

// TestMalformedRequests: bad JSON, unknown fields, unknown calls and bad
// methods get errors, and the daemon keeps serving.
func TestMalformedRequests(t *testing.T) {
	sock, _ := serve(t, Options{Engine: "interp"}, nil)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", api.PathProgLoad, "{", 400},
		{"POST", api.PathProgLoad, `{"object": 5}`, 400},
		{"POST", api.PathProgLoad, `{"bogus": 1}`, 400},
		{"POST", api.PathProgLoad, `{"object": "AAAA", "pin_path": "/x"}`, 400},
		{"POST", api.PathMapLookup, `{"map": {}}`, 400},
		{"POST", api.PathMapLookup, `{"map": {"id": 42}}`, 404},
		{"POST", "/v9/prog/list", `{}`, 404},
		{"DELETE", api.PathProgList, ``, 405},
		{"POST", api.PathUnpin, `{"path": "relative"}`, 400},
	} {
		req, _ := http.NewRequest(tc.method, "http://x"+tc.path, strings.NewReader(tc.body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !bytes.Contains(b, []byte(`"error"`)) {
			t.Errorf("%s %s %s: %d %s, want %d and an error", tc.method, tc.path, tc.body, resp.StatusCode, b, tc.status)
		}
	}
	if _, err := remote.Dial(sock); err != nil {
		t.Fatalf("daemon stopped serving: %v", err)
	}
}

// TestRefusedPeer: a peer the authorizer does not admit gets EPERM.
func TestRefusedPeer(t *testing.T) {
	sock, _ := serve(t, Options{}, func(p Peer) error { return fmt.Errorf("uid %d refused", p.UID) })
	_, err := remote.Dial(sock)
	var re *remote.Error
	if !errors.As(err, &re) || re.Code != api.CodePerm {
		t.Fatalf("refused peer: %v", err)
	}
}

// TestEventPipe streams a ring buffer's records while a program runs.
func TestEventPipe(t *testing.T) {
	sock, _ := serve(t, Options{Engine: "interp"}, nil)
	c := dialTest(t, sock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obj, err := os.ReadFile("../examples/events.o")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/ev", PinMaps: "/evm"}); err != nil {
		t.Fatal(err)
	}
	var re *remote.Error
	if err := c.EventPipe(ctx, api.Ref{Pinned: "/evm/.bss"}, nil); !errors.As(err, &re) || re.Code != api.CodeNotSupp {
		t.Fatalf("event_pipe of an array: %v", err)
	}
	got := make(chan []byte, 4)
	done := make(chan error, 1)
	go func() {
		done <- c.EventPipe(ctx, api.Ref{Pinned: "/evm/events"}, func(b []byte) error { got <- b; return nil })
	}()
	// An Ethernet/IPv4/UDP frame, which the program reports.
	pkt := make([]byte, 60)
	pkt[12], pkt[14], pkt[17], pkt[22], pkt[23] = 0x08, 0x45, 46, 64, 17
	b := firstEvent(t, func() {
		if _, err := c.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/ev"}, DataIn: pkt}); err != nil {
			t.Fatal(err)
		}
	}, got)
	if len(b) == 0 {
		t.Fatal("empty record")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("event pipe after cancel: %v", err)
	}
}

// TestShutdownEndsEventPipes: a server with an event pipe open shuts down
// at once, and the client's stream ends without an error.
func TestShutdownEndsEventPipes(t *testing.T) {
	d, err := New(Options{Engine: "interp", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(d, nil)
	go srv.Serve(l)
	c, err := remote.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := os.ReadFile("../examples/events.o")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/ev", PinMaps: "/evm"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	got := make(chan struct{}, 1)
	go func() {
		done <- c.EventPipe(ctx, api.Ref{Pinned: "/evm/events"}, func([]byte) error {
			select {
			case got <- struct{}{}:
			default:
			}
			return nil
		})
	}()
	// The stream has started once a record came through it (a fixed
	// sleep was too short on a busy machine: the pipe's request then
	// met the shut-down server and failed).
	pkt := make([]byte, 60)
	pkt[12], pkt[14], pkt[17], pkt[22], pkt[23] = 0x08, 0x45, 46, 64, 17
	firstEvent(t, func() {
		if _, err := c.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/ev"}, DataIn: pkt}); err != nil {
			t.Fatal(err)
		}
	}, got)
	sctx, cancel := context.WithTimeout(ctx, settle)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v after %v", err, time.Since(start))
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the client's stream: %v", err)
		}
	case <-time.After(settle):
		t.Fatal("the client's stream did not end")
	}
}

// TestServerConnections speaks HTTP/1.1 to the server on a raw
// connection: requests that do not parse get 400 and the connection ends;
// pipelined requests are answered in order; "Expect: 100-continue" gets
// its interim answer; "Connection: close" ends the connection after the
// answer.
func TestServerConnections(t *testing.T) {
	sock, _ := serve(t, Options{Engine: "interp"}, nil)
	exchange := func(send string) string {
		t.Helper()
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(settle))
		if _, err := io.WriteString(c, send); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("%q: %v after %q", send, err, b)
		}
		return string(b)
	}
	version := "GET " + api.PathVersion + " HTTP/1.1\r\nHost: x\r\n\r\n"
	closing := "GET " + api.PathVersion + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	if got := exchange("GARBAGE\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400 ") {
		t.Errorf("garbage: %q", got)
	}
	if got := exchange(version + closing); strings.Count(got, "HTTP/1.1 200 OK") != 2 || !strings.Contains(got, `"api":"v1"`) {
		t.Errorf("two pipelined requests: %q", got)
	}
	body := `{"map":{"id":9}}`
	expect := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", api.PathMapGet, len(body), body)
	if got := exchange(expect); !strings.HasPrefix(got, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 ") || !strings.Contains(got, "ENOENT") {
		t.Errorf("expect 100-continue: %q", got)
	}
}

// dialTest dials the daemon's socket for the test, closing the client when
// it ends.
func dialTest(t *testing.T, sock string) *remote.Client {
	t.Helper()
	c, err := remote.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
