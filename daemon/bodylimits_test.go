package daemon

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// TestBodyOverCallLimit: a request that declares a body over its call's
// limit gets E2BIG at once, and its connection is closed, without the
// daemon reading the body: none is sent, and the body deadline is off, so
// a daemon that waited for it would answer only when the test's read
// gives up (settle).
func TestBodyOverCallLimit(t *testing.T) {
	lim := DefaultConnLimits
	lim.BodyTimeout = 0
	sock, _, srv := serveWith(t, Options{Engine: "interp", MaxObjectSize: 1 << 20}, nil, lim, nil)
	for _, p := range []string{api.PathMapUpdate, api.PathMapLookup, api.PathProgGet, api.PathProgLoad, api.PathProgRun, api.PathMapEventPipe, api.PathUnpin} {
		limit := srv.bodyLimit(p)
		if p == api.PathMapEventPipe {
			limit = smallBody
		}
		c := dialRaw(t, sock)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", p, limit+1)
		b := readToClose(t, c, p)
		if !strings.HasPrefix(b, "HTTP/1.1 422 ") || !strings.Contains(b, api.CodeTooBig) || !strings.Contains(b, fmt.Sprint(limit)) {
			t.Errorf("%s: a body of %d bytes: %q, want 422 E2BIG naming the limit", p, limit+1, b)
		}
	}
	// A call's limit is no more than it needs: 64 KiB for one without
	// data, the base64 of the object size limit for a load.
	if l := srv.bodyLimit(api.PathProgGet); l != smallBody {
		t.Errorf("prog get's limit %d, want %d", l, smallBody)
	}
	if l := srv.bodyLimit(api.PathProgLoad); l < 4<<20/3 || l > 2<<20 {
		t.Errorf("load's limit %d with a 1 MiB object limit, want the object's base64 and a little", l)
	}
}

// TestBodyLimitFitsMaps: a map call's limit follows the largest key and
// value of the daemon's maps, a per-CPU value with a copy per slot: an
// update of the largest value passes, one a byte longer than any map
// takes is E2BIG before it is read.
func TestBodyLimitFitsMaps(t *testing.T) {
	sock, _, srv := serveWith(t, Options{Engine: "interp", Slots: 64}, nil, DefaultConnLimits, nil)
	c := dialTest(t, sock)
	ctx := context.Background()
	before := srv.bodyLimit(api.PathMapUpdate)
	if before != smallBody {
		t.Fatalf("map update's limit with no maps: %d, want %d", before, smallBody)
	}
	for _, m := range []struct {
		typ   string
		value uint32
		bytes int // the value as the API takes it
	}{
		{"array", 1 << 20, 1 << 20},
		{"percpu_array", 32 << 10, 64 * 32 << 10}, // 2 MiB
	} {
		pin := "/big_" + m.typ
		if _, err := c.CreateMap(ctx, api.MapCreateRequest{Path: pin, Type: m.typ, KeySize: 4, ValueSize: m.value, MaxEntries: 1, Name: "big"}); err != nil {
			t.Fatal(err)
		}
		value := bytes.Repeat([]byte{7}, m.bytes)
		if err := c.Update(ctx, api.Ref{Pinned: pin}, u32(0), value, 0); err != nil {
			t.Fatalf("%s: an update of a %d-byte value: %v", m.typ, len(value), err)
		}
		got, err := c.Lookup(ctx, api.Ref{Pinned: pin}, u32(0))
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("%s: lookup: %d bytes, %v", m.typ, len(got), err)
		}
	}
	limit := srv.bodyLimit(api.PathMapUpdate)
	if limit > 3<<20 {
		t.Errorf("map update's limit %d for a 2 MiB value, want the value's base64 and a little", limit)
	}
	err := c.Update(ctx, api.Ref{Pinned: "/big_array"}, u32(0), make([]byte, limit), 0)
	var re *remote.Error
	if !errors.As(err, &re) || re.Code != api.CodeTooBig || !strings.Contains(re.Message, "limit") {
		t.Fatalf("an update of %d bytes: %v, want E2BIG", limit, err)
	}
}

// TestBodyBudget: 16 loads of 1.5 MiB bodies at once, against a budget of
// 4 MiB, read two at a time: the others wait, holding nothing but their
// connection, and all are answered once their bodies are in. Each client
// sends all of its body but the last byte, so that the requests the
// budget admitted stay in it; the test waits for the other 14 to wait,
// then measures the heap (after a collection): the two admitted hold at
// most their bodies and the decoder's buffers, about twice each, well
// under 3 budgets; 16 bodies read at once would hold 24 MiB at the
// least. No step depends on timing: the waits are for states the budget
// reaches by itself.
func TestBodyBudget(t *testing.T) {
	const (
		clients = 16
		budget  = 4 << 20
		size    = 3<<19 + 1 // 1.5 MiB: two fit in the budget, not three
	)
	lim := DefaultConnLimits
	lim.BodyTimeout = 0 // the waiters wait until they are admitted
	lim.MaxBodyBytes = budget
	sock, _, srv := serveWith(t, Options{Engine: "interp", MaxObjectSize: 4 << 20}, nil, lim, nil)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc

	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n{\"object\":\"", api.PathProgLoad, size)
	chunk := bytes.Repeat([]byte("A"), 64<<10) // base64 of zeros: no ELF
	fill := size - len(`{"object":"`) - len(`"}`)
	if fill%4 != 0 {
		t.Fatalf("fill %d is no base64", fill)
	}
	release := make(chan struct{})
	answers := make(chan string, clients)
	for range clients {
		c := dialRaw(t, sock)
		go func() {
			_, err := io.WriteString(c, head)
			for left := fill; err == nil && left > 0; left -= len(chunk) {
				_, err = c.Write(chunk[:min(left, len(chunk))])
			}
			if err == nil {
				_, err = io.WriteString(c, `"`)
			}
			<-release
			if err == nil {
				_, err = io.WriteString(c, "}")
			}
			var r *http.Response
			if err == nil {
				r, err = http.ReadResponse(bufio.NewReader(c), nil)
			}
			if err != nil {
				answers <- err.Error()
				return
			}
			b, _ := io.ReadAll(r.Body)
			answers <- fmt.Sprintf("%d %s", r.StatusCode, b)
		}()
	}
	waitFor(t, "14 requests waiting for the budget", func() bool {
		srv.bodies.mu.Lock()
		defer srv.bodies.mu.Unlock()
		return srv.bodies.waiting == clients-2
	})
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if grown := int64(ms.HeapAlloc) - int64(base); grown > 3*budget {
		t.Errorf("the heap grew by %d bytes with %d bodies of %d sent, want under %d (3 budgets)", grown, clients, size, 3*budget)
	}
	close(release)
	for i := range clients {
		if a := <-answers; !strings.HasPrefix(a, "400 ") || !strings.Contains(a, api.CodeInvalid) {
			t.Errorf("answer %d: %s, want the load's EINVAL (no ELF)", i, a)
		}
	}
	srv.bodies.mu.Lock()
	defer srv.bodies.mu.Unlock()
	if srv.bodies.peak > budget || srv.bodies.used != 0 || srv.bodies.waiting != 0 {
		t.Errorf("budget: peak %d (of %d), %d used and %d waiting at the end", srv.bodies.peak, budget, srv.bodies.used, srv.bodies.waiting)
	}
}

// TestBodyBudgetTimeout: a request that finds no room before its body
// deadline gets EAGAIN (503), and one larger than the whole budget gets
// E2BIG at once.
func TestBodyBudgetTimeout(t *testing.T) {
	lim := DefaultConnLimits
	lim.BodyTimeout = short
	lim.MaxBodyBytes = 1 << 20
	sock, _, srv := serveWith(t, Options{Engine: "interp"}, nil, lim, nil)
	// The budget is taken, as by a request being read.
	if !srv.bodies.acquire(context.Background(), 1<<20, 1<<20, time.Time{}, nil) {
		t.Fatal("acquire")
	}
	defer srv.bodies.release(1 << 20)
	c := dialRaw(t, sock)
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", api.PathProgLoad, 100<<10)
	if b := readToClose(t, c, "a load with the budget taken"); !strings.HasPrefix(b, "HTTP/1.1 503 ") || !strings.Contains(b, api.CodeAgain) {
		t.Errorf("a load with the budget taken: %q, want 503 EAGAIN", b)
	}
	c = dialRaw(t, sock)
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", api.PathProgLoad, 2<<20)
	if b := readToClose(t, c, "a load over the budget"); !strings.HasPrefix(b, "HTTP/1.1 422 ") || !strings.Contains(b, "budget") {
		t.Errorf("a load over the budget: %q, want 422 E2BIG", b)
	}
}

// TestDrainWithinBodyDeadline: what a call left of a body is dropped
// within the body's one deadline, not a new one after the answer. The
// handler reads half of the body and returns after the deadline has
// passed (it sleeps longer than the whole BodyTimeout); the client then
// sends the rest and a second request on the same connection. The daemon
// must not read them: Go's read with a deadline past fails before it
// looks at the socket, so the connection closes with the one answer
// whatever the scheduling. (Before, the drain had a fresh BodyTimeout,
// and the second request was answered.)
func TestDrainWithinBodyDeadline(t *testing.T) {
	lim := DefaultConnLimits
	lim.BodyTimeout = 300 * time.Millisecond
	sock, _, _ := serveWith(t, Options{Engine: "interp"}, nil, lim, func(s *Server) {
		s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.ReadFull(r.Body, make([]byte, 10))
			time.Sleep(lim.BodyTimeout + 100*time.Millisecond)
			io.WriteString(w, "{}")
		})
	})
	c := dialRaw(t, sock)
	br := bufio.NewReader(c)
	io.WriteString(c, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0123456789")
	r, err := http.ReadResponse(br, nil)
	if err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("first answer: %v, %v", r, err)
	}
	io.ReadAll(r.Body)
	io.WriteString(c, "0123456789"+versionRequest)
	b, err := io.ReadAll(br)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("the daemon did not close the connection: %v", err)
	}
	if len(b) != 0 {
		t.Errorf("after the body's deadline the daemon read on and answered %q", b)
	}
}
