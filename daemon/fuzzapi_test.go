package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// The control API's fuzz targets (the project's standard: "fuzz the
// control API"). FuzzControlAPI feeds raw bytes to a connection of a
// daemon that has objects of every kind loaded; FuzzMapOps
// (fuzzmapops_test.go) builds the JSON bodies of the calls from typed
// values. Both check the same properties (fuzzFixture.check): no panic
// (the server recovers a handler's panic and logs it: panicLog), every
// answer a well-formed HTTP response with a 2xx JSON body or an error
// status with {"code","error"} of a known code (or a plain 400/408/431
// for a request that does not parse, and the connection closed), the
// connection closed within fuzzDeadline of the client's half-close, no
// goroutine left behind, and a fresh connection served afterwards.

// fuzzDeadline bounds one input's exchange. The inputs are small and the
// calls they make take milliseconds; a slow, busy machine (5x) stays far
// below it, and a daemon that waits for more input than the client sent,
// or works on after the client went, passes it.
const fuzzDeadline = 10 * time.Second

// fuzzLimits are the server's limits in the fuzz targets: longer than
// fuzzDeadline, so that a daemon that stalls (waiting for input after
// the client's half-close, say) is caught by the deadline rather than
// rescued by its own limits. The harness
// half-closes its side after writing: a correct daemon reaches none.
var fuzzLimits = ConnLimits{
	HeaderTimeout: 3 * fuzzDeadline,
	BodyTimeout:   3 * fuzzDeadline,
	IdleTimeout:   3 * fuzzDeadline,
	WriteTimeout:  3 * fuzzDeadline,
	MaxConns:      64, MaxConnsPerUID: 64,
}

// fuzzFixture is a daemon on a state directory, serving a socket, with an
// object of every kind of map loaded and pinned under /f so that requests
// find IDs, names, pins and contents.
type fuzzFixture struct {
	dir, sock string
	d         *Daemon
	srv       *Server
	log       *panicLog
	base      string // state after setup: fingerprint
	// goroutines is the process's count once the fixture serves: an
	// input's connections must not leave any behind (leakSlack).
	goroutines int
}

// leakSlack is how many goroutines above the fixture's start an input may
// leave once its connections are closed and fuzzDeadline has passed: the
// daemon's own that come and go (a map's compaction, the runtime's). A
// leak per input grows past it within a few inputs of one fixture.
const leakSlack = 8

// panicLog is a slog.Handler that remembers whether the daemon logged a
// recovered panic: serveOne turns a handler's panic into a closed
// connection, which the client alone cannot tell from other closes.
type panicLog struct {
	slog.Handler
	panics chan string
}

func (h *panicLog) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "panic") {
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool {
			msg += "\n" + a.Key + ": " + a.Value.String()
			return true
		})
		select {
		case h.panics <- msg:
		default:
		}
	}
	return nil
}

func (h *panicLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *panicLog) WithGroup(string) slog.Handler      { return h }
func (h *panicLog) Enabled(context.Context, slog.Level) bool {
	return true
}

// fuzzObjects are the objects the fixture loads: pin path, object file.
// Their maps are pinned at pin path + "_maps/NAME".
var fuzzObjects = []struct{ pin, file, name string }{
	{"/f/counter", "testdata/counter.o", ""},    // hash, array
	{"/f/queue", "testdata/queue.o", ""},        // queue, stack
	{"/f/bloom", "testdata/bloom.o", ""},        // bloom filter
	{"/f/refs", "testdata/refs.o", ""},          // program array, maps of maps, cpumap, devmap
	{"/f/events", "../examples/events.o", ""},   // ring buffer
	{"/f/perf", "testdata/perf.o", ""},          // perf event array
	{"/f/btf", "testdata/btfvals.o", "btfvals"}, // BTF-formatted entries, global data
}

// newFuzzFixture starts the fixture in a new directory under dir.
func newFuzzFixture(tb testing.TB, dir string) *fuzzFixture {
	tb.Helper()
	dir, err := os.MkdirTemp(dir, "fx")
	if err != nil {
		tb.Fatal(err)
	}
	fx := &fuzzFixture{dir: dir, sock: filepath.Join(dir, "s.sock"), log: &panicLog{panics: make(chan string, 1)}}
	d, err := New(Options{StateDir: filepath.Join(dir, "state"), Slots: 2, NoSync: true, Logger: slog.New(fx.log)})
	if err != nil {
		tb.Fatal(err)
	}
	fx.d = d
	ctx := context.Background()
	for _, o := range fuzzObjects {
		obj, err := os.ReadFile(o.file)
		if err != nil {
			tb.Fatal(err)
		}
		all := o.file == "testdata/refs.o"
		if _, err := d.Load(ctx, api.LoadRequest{Object: obj, All: all, PinPath: o.pin, PinMaps: o.pin + "_maps", ObjectName: o.name}); err != nil {
			tb.Fatalf("%s: %v", o.file, err)
		}
	}
	if _, err := d.CreateMap(ctx, api.MapCreateRequest{Path: "/f/created", Type: "percpu_hash", KeySize: 4, ValueSize: 8, MaxEntries: 16, Name: "created"}); err != nil {
		tb.Fatal(err)
	}
	for k := range uint32(3) {
		if err := d.Update(api.MapRequest{Map: api.Ref{Pinned: "/f/counter_maps/counts"}, Key: u32(k), Value: u64(uint64(k) * 10)}); err != nil {
			tb.Fatal(err)
		}
	}
	l, err := net.Listen("unix", fx.sock)
	if err != nil {
		tb.Fatal(err)
	}
	fx.srv = NewServer(d, nil)
	fx.srv.Limits = fuzzLimits
	fx.srv.handler = noDeviceAttach(fx.srv.handler)
	go fx.srv.Serve(l)
	fx.base = fx.fingerprint()
	fx.goroutines = runtime.NumGoroutine()
	return fx
}

// noDeviceAttach refuses net attach, which would attach a program to one
// of the machine's devices (and turn its offloads off): the fuzz inputs
// may name any. The rest of the net and link calls stay reachable.
func noDeviceAttach(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if path.Clean(r.URL.Path) == api.PathNetAttach {
			writeError(w, http.StatusForbidden, api.Error{Code: api.CodePerm, Message: "fuzzing: attaching to devices is off"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (fx *fuzzFixture) close() {
	ctx, cancel := context.WithTimeout(context.Background(), fuzzDeadline)
	defer cancel()
	fx.srv.Shutdown(ctx)
	fx.d.Close()
	os.RemoveAll(fx.dir)
}

// fingerprint sums up the daemon's objects and pins: an input that
// changes it (a load, a pin, an unpin, a freeze) gets the next input a
// new fixture, so that each input meets the state its seed was written
// for and a crasher reproduces on its own. Map contents are not part of
// it: every input may change them.
func (fx *fuzzFixture) fingerprint() string {
	d := fx.d
	d.mu.Lock()
	defer d.mu.Unlock()
	var parts []string
	for p, o := range d.pins {
		parts = append(parts, fmt.Sprintf("%s=%d", p, idOf(o)))
	}
	for id, m := range d.maps {
		parts = append(parts, fmt.Sprintf("map%d:%v", id, m.m.Frozen()))
	}
	for id := range d.progs {
		parts = append(parts, fmt.Sprintf("prog%d", id))
	}
	for id := range d.links {
		parts = append(parts, fmt.Sprintf("link%d", id))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// exchange writes in on a new connection, half-closes it and returns
// what the daemon sent until it closed the connection.
func (fx *fuzzFixture) exchange(t testing.TB, in []byte) []byte {
	t.Helper()
	out, err := fx.send(in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// send is exchange for any goroutine: it returns the failure.
func (fx *fuzzFixture) send(in []byte) ([]byte, error) {
	c, err := net.Dial("unix", fx.sock)
	if err != nil {
		return nil, fmt.Errorf("dialing the daemon: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(fuzzDeadline))
	// Write while reading: answers to pipelined requests may fill the
	// socket's buffer before the input is all written.
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(in)
		c.(*net.UnixConn).CloseWrite()
		werr <- err
	}()
	out, err := io.ReadAll(c)
	<-werr
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return out, fmt.Errorf("the daemon did not close the connection within %v; it sent %q", fuzzDeadline, trim(out))
	}
	return out, nil
}

func trim(b []byte) []byte {
	if len(b) > 2000 {
		return append(b[:2000:2000], "..."...)
	}
	return b
}

// check fails t if the daemon panicked, answered outside the API's
// contract, or stopped serving.
func (fx *fuzzFixture) check(t testing.TB, in, out []byte) {
	t.Helper()
	select {
	case p := <-fx.log.panics:
		t.Fatalf("the daemon panicked on %q:\n%s", trim(in), p)
	default:
	}
	if err := checkResponses(requestMethods(in), out); err != nil {
		t.Fatalf("input %q:\nanswer %q:\n%v", trim(in), trim(out), err)
	}
	got := fx.exchange(t, []byte("GET "+api.PathProgList+" HTTP/1.1\r\nHost: x\r\n\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after input %q, prog list answers %q (%v)", trim(in), trim(got), err)
	}
	// The connections are closed: their goroutines end, at once on an
	// idle machine, within fuzzDeadline on any.
	for end := time.Now().Add(fuzzDeadline); runtime.NumGoroutine() > fx.goroutines+leakSlack; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after input %q, %d goroutines, %d at the start:\n%s", trim(in), runtime.NumGoroutine(), fx.goroutines, buf[:runtime.Stack(buf, true)])
		}
	}
}

// knownCodes are the API's error codes.
var knownCodes = map[string]bool{
	api.CodeInvalid: true, api.CodeNotFound: true, api.CodeExists: true, api.CodePerm: true,
	api.CodeRejected: true, api.CodeTooBig: true, api.CodeInternal: true, api.CodeNotSupp: true,
	api.CodeBusy: true, api.CodeAgain: true, api.CodeNameTooLong: true,
}

// checkResponses checks out, all that the daemon sent on a connection,
// against the API's contract: a sequence of well-formed HTTP/1.1
// responses, each with a 2xx JSON body (NDJSON for an event pipe) or an
// error status with a JSON {"code","error"} of a known code; the one
// exception is a plain 400, 408 or 431 for a request that could not be
// read, after which the connection ends.
//
// methods are the methods of the requests answered, in order, as far as
// they are known: the answer to a HEAD has no body.
func checkResponses(methods []string, out []byte) error {
	br := bufio.NewReader(bytes.NewReader(out))
	for n, answered := 0, 0; ; n++ {
		if _, err := br.Peek(1); err == io.EOF {
			return nil
		}
		var req *http.Request
		if answered < len(methods) {
			req = &http.Request{Method: methods[answered]}
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return fmt.Errorf("response %d: malformed: %v", n, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("response %d (%s): body: %v", n, resp.Status, err)
		}
		if resp.StatusCode == http.StatusContinue {
			continue
		}
		answered++
		if req != nil && req.Method == http.MethodHead {
			continue // no body to check; one sent anyway breaks the next
		}
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		switch {
		case resp.StatusCode/100 == 2:
			if err := checkJSON(ct, body); err != nil {
				return fmt.Errorf("response %d (%s): %v", n, resp.Status, err)
			}
		case ct == "text/plain" && (resp.StatusCode == 400 || resp.StatusCode == 408 || resp.StatusCode == 431):
			if !resp.Close {
				return fmt.Errorf("response %d (%s): a request that could not be read, but the connection stays", n, resp.Status)
			}
			if br.Buffered() > 0 {
				return fmt.Errorf("response %d (%s): more answers after the connection's last", n, resp.Status)
			}
		default:
			if ct != "application/json" {
				return fmt.Errorf("response %d (%s): error of type %q, want application/json: %q", n, resp.Status, ct, trim(body))
			}
			var e struct {
				Code  *string `json:"code"`
				Error *string `json:"error"`
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil || e.Code == nil || e.Error == nil || *e.Error == "" {
				return fmt.Errorf("response %d (%s): error body %q, want {\"code\",\"error\"} (%v)", n, resp.Status, trim(body), err)
			}
			if !knownCodes[*e.Code] {
				return fmt.Errorf("response %d (%s): unknown error code %q", n, resp.Status, *e.Code)
			}
			if resp.StatusCode != statusOf(*e.Code) && !allowedStatus(resp.StatusCode, *e.Code) {
				return fmt.Errorf("response %d (%s): status does not fit code %q (want %d)", n, resp.Status, *e.Code, statusOf(*e.Code))
			}
		}
		if resp.Close && br.Buffered() > 0 {
			return fmt.Errorf("response %d (%s): Connection: close, then more", n, resp.Status)
		}
	}
}

// requestMethods returns the methods of the requests in in, as the
// daemon reads them, until one does not parse.
func requestMethods(in []byte) []string {
	var methods []string
	br := bufio.NewReader(bytes.NewReader(in))
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return methods
		}
		methods = append(methods, req.Method)
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return methods
		}
	}
}

// allowedStatus lists the statuses the server gives beside statusOf's:
// 405 for a method a call does not take, 404 for a path that is no call,
// 503 for a connection beyond the limits.
func allowedStatus(status int, code string) bool {
	return status == http.StatusMethodNotAllowed && code == api.CodeInvalid ||
		status == http.StatusNotFound && code == api.CodeInvalid || // no such call
		status == http.StatusServiceUnavailable && code == api.CodeAgain
}

// checkJSON checks a successful answer's body: one JSON document, or
// JSON lines for a stream.
func checkJSON(ct string, body []byte) error {
	switch ct {
	case "application/json":
		if !json.Valid(body) {
			return fmt.Errorf("body is not JSON: %q", trim(body))
		}
	case "application/x-ndjson":
		for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			if len(line) > 0 && !json.Valid(line) {
				return fmt.Errorf("stream line is not JSON: %q", trim(line))
			}
		}
	default:
		return fmt.Errorf("body of type %q, want JSON: %q", ct, trim(body))
	}
	return nil
}

// fuzzRun runs one input on fx (a new fixture if the last input changed
// the state) and checks the properties; it returns the fixture for the
// next input.
func fuzzRun(t *testing.T, fx **fuzzFixture, dir string, in []byte) {
	// Each step below has its own deadline; should one still block (a
	// deadlock in the daemon: Shutdown, say, or d.mu), the watchdog ends
	// the process with every goroutine's stack, and the fuzzer keeps the
	// input as a crasher.
	watchdog := time.AfterFunc(4*fuzzDeadline, func() {
		buf := make([]byte, 1<<22)
		buf = buf[:runtime.Stack(buf, true)]
		fmt.Fprintf(os.Stderr, "input %q hung:\n%s\n", trim(in), buf)
		os.Exit(2)
	})
	defer watchdog.Stop()
	if (*fx).fingerprint() != (*fx).base {
		(*fx).close()
		*fx = newFuzzFixture(t, dir)
	}
	out := (*fx).exchange(t, in)
	(*fx).check(t, in, out)
}

// rawRequest is an HTTP/1.1 request as a client writes it: method, path,
// and a JSON body of v (none if v is nil).
func rawRequest(method, p string, v any) []byte {
	var body []byte
	if v != nil {
		body, _ = json.Marshal(v)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: bpfhost\r\n", method, p)
	if body != nil {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// validRequests is one valid request per call, naming the fixture's
// objects: the seeds of FuzzControlAPI.
func validRequests(obj []byte) [][]byte {
	counts := api.Ref{Pinned: "/f/counter_maps/counts"}
	prog := api.Ref{Pinned: "/f/counter"}
	post := func(p string, v any) []byte { return rawRequest("POST", p, v) }
	return [][]byte{
		rawRequest("GET", api.PathVersion, nil),
		rawRequest("GET", api.PathProgList, nil),
		rawRequest("GET", api.PathMapList, nil),
		rawRequest("GET", api.PathLinkList, nil),
		post(api.PathProgLoad, api.LoadRequest{Object: obj, PinPath: "/f/new", PinMaps: "/f/new_maps"}),
		post(api.PathProgLoad, api.LoadRequest{Object: obj, PinPath: "/f/new", Maps: []api.MapReplacement{{Name: "counts", Map: counts}}}),
		post(api.PathProgGet, api.ProgRequest{Prog: prog}),
		post(api.PathProgGet, api.ProgRequest{Prog: api.Ref{Name: "count_packets"}}),
		post(api.PathProgDump, api.ProgRequest{Prog: prog}),
		post(api.PathProgJited, api.ProgRequest{Prog: prog}),
		post(api.PathProgRun, api.RunRequest{Prog: prog, DataIn: make([]byte, 64), Repeat: 3}),
		post(api.PathProgRun, api.RunRequest{Prog: api.Ref{Pinned: "/f/queue"}, DataIn: make([]byte, 14), CtxIn: make([]byte, 24), WantCtxOut: true}),
		post(api.PathProgPin, api.PinRequest{Ref: prog, Path: "/f/counter2"}),
		post(api.PathMapGet, api.MapRequest{Map: counts}),
		post(api.PathMapLookup, api.MapRequest{Map: counts, Key: u32(1), Formatted: "json"}),
		post(api.PathMapUpdate, api.MapRequest{Map: counts, Key: u32(7), Value: u64(7), Flags: 1}),
		post(api.PathMapUpdate, api.MapRequest{Map: api.Ref{Pinned: "/f/created"}, Key: u32(7), Value: u64(7)}),
		post(api.PathMapUpdate, api.MapRequest{Map: api.Ref{Pinned: "/f/refs_maps/jmp"}, Key: u32(0), ValueRef: &api.Ref{Pinned: "/f/refs/entry"}}),
		post(api.PathMapUpdate, api.MapRequest{Map: api.Ref{Pinned: "/f/refs_maps/outer"}, Key: u32(0), ValueRef: &api.Ref{Pinned: "/f/refs_maps/inner"}}),
		post(api.PathMapDelete, api.MapRequest{Map: counts, Key: u32(1)}),
		post(api.PathMapNextKey, api.MapRequest{Map: counts, NoKey: true}),
		post(api.PathMapNextKey, api.MapRequest{Map: counts, Key: u32(0)}),
		post(api.PathMapDump, api.MapRequest{Map: counts, Formatted: "plain"}),
		post(api.PathMapDump, api.MapRequest{Map: api.Ref{Pinned: "/f/refs_maps/houter"}}),
		post(api.PathMapPin, api.PinRequest{Ref: counts, Path: "/f/counts2"}),
		post(api.PathMapFreeze, api.MapRequest{Map: api.Ref{Pinned: "/f/counter_maps/total"}}),
		post(api.PathMapCreate, api.MapCreateRequest{Path: "/f/c2", Type: "hash", KeySize: 4, ValueSize: 4, MaxEntries: 4, Name: "c2"}),
		post(api.PathMapCreate, api.MapCreateRequest{Path: "/f/c3", Type: "array_of_maps", KeySize: 4, ValueSize: 4, MaxEntries: 4, Name: "c3", InnerMap: &api.Ref{Pinned: "/f/refs_maps/inner"}}),
		post(api.PathMapPush, api.MapRequest{Map: api.Ref{Pinned: "/f/queue_maps/fifo"}, Value: u32(5)}),
		post(api.PathMapPush, api.MapRequest{Map: api.Ref{Pinned: "/f/bloom_maps/seen"}, Value: u32(5)}),
		post(api.PathMapPeek, api.MapRequest{Map: api.Ref{Pinned: "/f/queue_maps/fifo"}}),
		post(api.PathMapPop, api.MapRequest{Map: api.Ref{Pinned: "/f/queue_maps/lifo"}}),
		post(api.PathMapEventPipe, api.MapRequest{Map: api.Ref{Pinned: "/f/events_maps/events"}}),
		post(api.PathUnpin, api.UnpinRequest{Path: "/f/counter"}),
		post(api.PathNetAttach, api.NetAttachRequest{Prog: prog, Dev: "bpfhostfuzz0"}),
		post(api.PathNetDetach, api.NetDetachRequest{Dev: "bpfhostfuzz0"}),
		post(api.PathLinkGet, api.LinkRequest{Link: api.Ref{ID: 1}}),
		post(api.PathLinkPin, api.PinRequest{Ref: api.Ref{ID: 1}, Path: "/f/link"}),
		post(api.PathLinkDetach, api.LinkRequest{Link: api.Ref{ID: 1}}),
	}
}

// framingSeeds are requests that test the reading of requests: pipelining,
// chunked bodies, lengths that lie, oversized and broken headers.
func framingSeeds() [][]byte {
	list := rawRequest("GET", api.PathProgList, nil)
	lookup := rawRequest("POST", api.PathMapLookup, api.MapRequest{Map: api.Ref{Pinned: "/f/counter_maps/counts"}, Key: u32(2)})
	return [][]byte{
		slices.Concat(list, lookup, list),
		[]byte("POST " + api.PathMapLookup + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"8\r\n{\"map\":{\r\nd\r\n\"id\":1},\"key\"\r\n9\r\n:\"AAAAAA\"\r\n1\r\n}\r\n0\r\n\r\n"),
		[]byte("POST " + api.PathMapLookup + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffff\r\n{}"),
		[]byte("POST " + api.PathMapLookup + " HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{\"map\":{\"id\":1}}"),
		[]byte("POST " + api.PathMapLookup + " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n{}"),
		[]byte("POST " + api.PathProgRun + " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 40\r\n\r\n{\"prog\":{\"id\":1},\"repeat\":4000000000}"),
		[]byte("HEAD " + api.PathVersion + " HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("GET " + api.PathVersion + " HTTP/1.0\r\n\r\n"),
		[]byte("GET //v1/../v1/prog/list HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("GET /v1/prog/%6cist?x=%zz HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("CONNECT x:1 HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("GET " + api.PathVersion + " HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 2<<20) + "\r\n\r\n"),
		[]byte("GET " + api.PathVersion + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + string(list)),
		[]byte("\x00\xff garbage\r\n\r\n"),
		{},
	}
}

// FuzzControlAPI feeds raw bytes to a connection of a daemon with objects
// loaded: requests of every call, as seeds, and their mutations.
func FuzzControlAPI(f *testing.F) {
	obj, err := os.ReadFile("testdata/counter.o")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range validRequests(obj) {
		f.Add(s)
	}
	for _, s := range framingSeeds() {
		f.Add(s)
	}
	dir := f.TempDir()
	fx := newFuzzFixture(f, dir)
	defer func() { fx.close() }()
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzRun(t, &fx, dir, in)
	})
}
