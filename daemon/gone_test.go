package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// usersOf is how many calls hold the unit of the program pinned at pin.
func usersOf(t *testing.T, d *Daemon, pin string) int {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	p, err := d.findProg(api.Ref{Pinned: pin})
	if err != nil {
		t.Fatal(err)
	}
	return p.u.users
}

// TestClientGoneStopsRun: a client that goes away in the middle of a long
// "prog run" (killed, or its context ended) stops the run, as killing
// bpftool stops BPF_PROG_TEST_RUN. Before, the daemon ran all the
// repetitions for nobody: 4 billion of them kept a CPU busy for minutes.
func TestClientGoneStopsRun(t *testing.T) {
	sock, d := serve(t, Options{Engine: "interp"}, nil)
	c := dialTest(t, sock)
	if _, err := c.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/c"}); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(api.RunRequest{Prog: api.Ref{Pinned: "/c"}, DataIn: make([]byte, 64), Repeat: 1<<32 - 1})
	for _, how := range []string{"close", "context"} {
		t.Run(how, func(t *testing.T) {
			var stop func()
			switch how {
			case "close":
				conn, err := net.Dial("unix", sock)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", api.PathProgRun, len(body), body)
				stop = func() { conn.Close() }
			case "context":
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() {
					_, err := c.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/c"}, DataIn: make([]byte, 64), Repeat: 1<<32 - 1})
					done <- err
				}()
				stop = func() {
					cancel()
					if err := <-done; err == nil {
						t.Error("Run of a canceled context succeeded")
					}
				}
			}
			// The run holds the program's unit while it lasts. 4 billion
			// repetitions take minutes even interpreted on a fast machine,
			// so the run is still going when the client goes; after it,
			// the unit must be free within settle (milliseconds here).
			waitFor(t, "the run to start", func() bool { return usersOf(t, d, "/c") > 0 })
			stop()
			waitFor(t, "the run to stop after its client went", func() bool { return usersOf(t, d, "/c") == 0 })
		})
	}
	// The connection still serves a call after a watched one.
	if _, err := c.Program(context.Background(), api.Ref{Pinned: "/c"}); err != nil {
		t.Fatal(err)
	}
}

// TestPipelinedRequests: a request sent before the answer to the last one
// (HTTP pipelining) is answered in turn; the watch for a client that goes
// keeps what it read of the next request.
func TestPipelinedRequests(t *testing.T) {
	sock, _ := serve(t, Options{}, nil)
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(settle))
	req := "GET " + api.PathVersion + " HTTP/1.1\r\nHost: x\r\n\r\n"
	io.WriteString(conn, req+req+strings.Replace(req, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1))
	b, _ := io.ReadAll(conn)
	if n := strings.Count(string(b), "HTTP/1.1 200 "); n != 3 {
		t.Fatalf("%d answers to 3 pipelined requests:\n%s", n, b)
	}
}

// TestRemoteErrorCodes: the client's errors match the sentinel of their
// code with errors.Is: a full queue is ErrTooBig, a frozen map's update
// ErrPermission, a wrong key size ErrInvalid. Before, only ErrNotFound and
// ErrExists matched; the rest needed errors.As and the code's string.
func TestRemoteErrorCodes(t *testing.T) {
	sock, _ := serve(t, Options{Engine: "interp"}, nil)
	c := dialTest(t, sock)
	ctx := context.Background()
	obj, err := os.ReadFile("testdata/queue.o")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/q", PinMaps: "/qm"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(ctx, api.LoadRequest{Object: counterObject(t), PinPath: "/c", PinMaps: "/cm"}); err != nil {
		t.Fatal(err)
	}
	fifo := api.Ref{Pinned: "/qm/fifo"}
	for i := 0; i < 4; i++ {
		if err := c.Push(ctx, fifo, u32(uint32(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Push(ctx, fifo, u32(9), 0); !errors.Is(err, remote.ErrTooBig) || errors.Is(err, remote.ErrNotFound) {
		t.Errorf("push onto a full queue: %v, want ErrTooBig", err)
	}
	counts := api.Ref{Pinned: "/cm/counts"}
	if err := c.Update(ctx, counts, u32(1), u32(1), 0); !errors.Is(err, remote.ErrInvalid) {
		t.Errorf("update with a 4-byte value for 8: %v, want ErrInvalid", err)
	}
	if err := c.Freeze(ctx, counts); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(ctx, counts, u32(1), u64(1), 0); !errors.Is(err, remote.ErrPermission) {
		t.Errorf("update of a frozen map: %v, want ErrPermission", err)
	}
	if err := c.Freeze(ctx, counts); !errors.Is(err, remote.ErrBusy) {
		t.Errorf("freezing twice: %v, want ErrBusy", err)
	}
	if _, err := c.Lookup(ctx, counts, u32(77)); !errors.Is(err, remote.ErrNotFound) || errors.Is(err, remote.ErrTooBig) {
		t.Errorf("lookup of a missing key: %v, want ErrNotFound", err)
	}
}

// TestPipelinedDuringCall: a request sent while the last one is still
// handled (its run going on) is read by the watch for the client's going,
// kept, and answered in turn; the call it arrived during is not canceled.
func TestPipelinedDuringCall(t *testing.T) {
	sock, d := serve(t, Options{Engine: "interp"}, nil)
	c := dialTest(t, sock)
	if _, err := c.Load(context.Background(), api.LoadRequest{Object: counterObject(t), PinPath: "/c"}); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// 10^6 runs take a few tenths of a second here (seconds with -race), long enough for the second
	// request to come while the first is handled; if a machine were so
	// fast that it came after, the test would pass without covering the
	// kept byte, never fail for it.
	body, _ := json.Marshal(api.RunRequest{Prog: api.Ref{Pinned: "/c"}, DataIn: make([]byte, 64), Repeat: 1_000_000})
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", api.PathProgRun, len(body), body)
	waitFor(t, "the run to start", func() bool { return usersOf(t, d, "/c") > 0 })
	io.WriteString(conn, "GET "+api.PathVersion+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	conn.SetDeadline(time.Now().Add(4 * settle))
	b, _ := io.ReadAll(conn)
	if n := strings.Count(string(b), "HTTP/1.1 200 "); n != 2 || !strings.Contains(string(b), `"retval":2`) || !strings.Contains(string(b), `"api":"`+api.Version+`"`) {
		t.Fatalf("a run and a pipelined version call:\n%s", b)
	}
}
