package remote

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// serveAt serves h on a Unix socket at sock until the returned function
// closes the server and its connections.
func serveAt(t *testing.T, sock string, h http.HandlerFunc) func() {
	t.Helper()
	os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return func() { srv.Close() }
}

// versionThen answers the version call, and every other call with fn.
func versionThen(fn func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == api.PathVersion {
			json.NewEncoder(w).Encode(api.VersionInfo{API: api.Version})
			return
		}
		fn(w, r)
	}
}

// TestReconnect: a call after the daemon restarted (its connections
// closed, a new server on the same socket) succeeds on a new connection,
// and an answer that closes its connection leaves the client working.
func TestReconnect(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s")
	var calls atomic.Int32
	handler := versionThen(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Content-Length") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(api.MapInfo{ID: 3, Name: "m"})
	})
	stop := serveAt(t, sock, handler)
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if info, err := c.Map(ctx, api.Ref{ID: 3}); err != nil || info.Name != "m" {
		t.Fatalf("first call: %+v, %v", info, err)
	}
	stop()
	serveAt(t, sock, handler)
	if info, err := c.Map(ctx, api.Ref{ID: 3}); err != nil || info.Name != "m" {
		t.Fatalf("after the restart: %+v, %v", info, err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("the daemons saw %d calls, want 2 (one each)", n)
	}
	closing := filepath.Join(t.TempDir(), "c")
	serveAt(t, closing, versionThen(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		json.NewEncoder(w).Encode(api.MapInfo{ID: 4})
	}))
	c2, err := Dial(closing)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	for i := 0; i < 3; i++ {
		if info, err := c2.Map(ctx, api.Ref{ID: 4}); err != nil || info.ID != 4 {
			t.Fatalf("call %d to a daemon closing each connection: %+v, %v", i, info, err)
		}
	}
}

// TestCallCanceled: a call whose context ends while the daemon has not
// answered returns the context's error, and the client goes on working.
func TestCallCanceled(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s")
	release := make(chan struct{})
	serveAt(t, sock, versionThen(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/get") {
			<-release
		}
		json.NewEncoder(w).Encode([]api.MapInfo{})
	}))
	defer close(release)
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Map(ctx, api.Ref{ID: 1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call past its deadline: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second { // the handler never answers: a hang guard
		t.Fatalf("the call returned after %v", d)
	}
	if _, err := c.Maps(context.Background()); err != nil {
		t.Fatalf("the next call: %v", err)
	}
}

// TestAnswerLengthNotTrusted: an answer announcing a huge body that never
// comes fails without the client setting aside memory for it.
func TestAnswerLengthNotTrusted(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				c.Read(buf)
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n{}"))
			}()
		}
	}()
	p := &pool{socket: sock}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err = p.roundTrip(context.Background(), "GET", api.PathVersion, nil)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a truncated answer: no error")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("an answer announcing 1 GiB made the client allocate %d bytes", grew)
	}
}
