// Package remote is the client of the bpfhost daemon: it loads and pins
// programs, runs them and operates on maps over the daemon's control API
// (package daemon/api), on a Unix socket.
//
//	c, err := remote.Dial("/run/bpfhost/bpfhost.sock")
//	progs, err := c.Programs(ctx)
package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// DefaultSocket is where the daemon listens unless told otherwise.
const DefaultSocket = "/run/bpfhost/bpfhost.sock"

// SocketEnv names the environment variable that gives the socket.
const SocketEnv = "BPFHOST_SOCKET"

// Socket is the socket to use: flag if set, else $BPFHOST_SOCKET, else
// DefaultSocket.
func Socket(flag string) string {
	if flag != "" {
		return flag
	}
	if s := os.Getenv(SocketEnv); s != "" {
		return s
	}
	return DefaultSocket
}

// Client talks to one daemon. It is safe for concurrent use.
type Client struct {
	socket string
	conns  *pool        // calls (conn.go)
	hc     *http.Client // event streams
	// Info is what the daemon said of itself when dialled.
	Info api.VersionInfo
}

// Error is a failure the daemon reported.
type Error struct {
	Status  int    // the HTTP status
	Code    string // api.CodeNotFound...
	Message string
}

func (e *Error) Error() string { return e.Message }

// ErrNotFound matches (errors.Is) an Error with code ENOENT: no such
// object, pin or key.
var ErrNotFound = errors.New("not found")

// ErrExists matches an Error with code EEXIST.
var ErrExists = errors.New("already exists")

// The other codes of api.Error, each matched by errors.Is as ErrNotFound.
var (
	// ErrInvalid matches EINVAL: a malformed request or argument (a key
	// of the wrong size, flags the map type does not take).
	ErrInvalid = errors.New("invalid argument")
	// ErrPermission matches EPERM: a peer not admitted, a write to a
	// frozen map, an operation refused by policy.
	ErrPermission = errors.New("operation not permitted")
	// ErrRejected matches EACCES: the verifier rejected the program.
	ErrRejected = errors.New("rejected by the verifier")
	// ErrTooBig matches E2BIG: a full map, an array index past its end,
	// a policy limit.
	ErrTooBig = errors.New("too big")
	// ErrNotSupported matches ENOTSUP.
	ErrNotSupported = errors.New("not supported")
	// ErrBusy matches EBUSY: a map already frozen, a device with a link.
	ErrBusy = errors.New("busy")
	// ErrAgain matches EAGAIN: the daemon has too many connections, or
	// too many request bodies to read at once; the call may succeed later.
	ErrAgain = errors.New("try again")
)

// codeErrors are the sentinels by api code.
var codeErrors = map[string]error{
	api.CodeNotFound: ErrNotFound, api.CodeExists: ErrExists, api.CodeInvalid: ErrInvalid,
	api.CodePerm: ErrPermission, api.CodeRejected: ErrRejected, api.CodeTooBig: ErrTooBig,
	api.CodeNotSupp: ErrNotSupported, api.CodeBusy: ErrBusy, api.CodeAgain: ErrAgain,
}

// Is makes errors.Is(err, ErrNotFound), errors.Is(err, ErrTooBig) and the
// other sentinels work on the daemon's errors, by their code.
func (e *Error) Is(target error) bool {
	s, ok := codeErrors[e.Code]
	return ok && s == target
}

// Dial connects to the daemon at socket and checks that it speaks this
// client's API version.
func Dial(socket string) (*Client, error) {
	c := &Client{socket: socket, conns: &pool{socket: socket}, hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 16,
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.call(ctx, http.MethodGet, api.PathVersion, nil, &c.Info); err != nil {
		return nil, fmt.Errorf("daemon at %s: %w", socket, err)
	}
	if c.Info.API != api.Version {
		return nil, fmt.Errorf("daemon at %s speaks API %q, want %q", socket, c.Info.API, api.Version)
	}
	return c, nil
}

// Close releases the client's idle connections.
func (c *Client) Close() error {
	c.conns.close()
	c.hc.CloseIdleConnections()
	return nil
}

func (c *Client) call(ctx context.Context, method, path string, req, res any) error {
	var body []byte
	if req != nil {
		b, err := json.Marshal(req)
		if err != nil {
			return err
		}
		body = b
	}
	status, answer, err := c.conns.roundTrip(ctx, method, path, body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return errorOf(status, answer)
	}
	if res == nil {
		return nil
	}
	if err := json.Unmarshal(answer, res); err != nil {
		return fmt.Errorf("daemon's answer: %w", err)
	}
	return nil
}

// errorOf is the Error of a failed call: its status and body.
func errorOf(status int, body []byte) error {
	var ae api.Error
	if err := json.Unmarshal(body, &ae); err != nil || ae.Message == "" {
		ae.Code, ae.Message = api.CodeInternal, fmt.Sprintf("daemon answered %d %s", status, http.StatusText(status))
	}
	return &Error{Status: status, Code: ae.Code, Message: ae.Message}
}

func (c *Client) post(ctx context.Context, path string, req, res any) error {
	return c.call(ctx, http.MethodPost, path, req, res)
}

// Load loads an object's programs and pins them (bpftool prog load).
func (c *Client) Load(ctx context.Context, req api.LoadRequest) (api.LoadResult, error) {
	var res api.LoadResult
	return res, c.post(ctx, api.PathProgLoad, req, &res)
}

// Programs lists the loaded programs.
func (c *Client) Programs(ctx context.Context) ([]api.ProgInfo, error) {
	var res []api.ProgInfo
	return res, c.call(ctx, http.MethodGet, api.PathProgList, nil, &res)
}

// Program describes one program.
func (c *Client) Program(ctx context.Context, r api.Ref) (api.ProgInfo, error) {
	var res api.ProgInfo
	return res, c.post(ctx, api.PathProgGet, api.ProgRequest{Prog: r}, &res)
}

// Run runs a program as BPF_PROG_TEST_RUN does.
func (c *Client) Run(ctx context.Context, req api.RunRequest) (api.RunResult, error) {
	var res api.RunResult
	return res, c.post(ctx, api.PathProgRun, req, &res)
}

// PinProgram pins a program at path.
func (c *Client) PinProgram(ctx context.Context, r api.Ref, path string) error {
	return c.post(ctx, api.PathProgPin, api.PinRequest{Ref: r, Path: path}, nil)
}

// PinMap pins a map at path.
func (c *Client) PinMap(ctx context.Context, r api.Ref, path string) error {
	return c.post(ctx, api.PathMapPin, api.PinRequest{Ref: r, Path: path}, nil)
}

// Unpin removes a pin; the object goes when nothing else holds it.
func (c *Client) Unpin(ctx context.Context, path string) error {
	return c.post(ctx, api.PathUnpin, api.UnpinRequest{Path: path}, nil)
}

// Maps lists the maps.
func (c *Client) Maps(ctx context.Context) ([]api.MapInfo, error) {
	var res []api.MapInfo
	return res, c.call(ctx, http.MethodGet, api.PathMapList, nil, &res)
}

// Map describes one map.
func (c *Client) Map(ctx context.Context, r api.Ref) (api.MapInfo, error) {
	var res api.MapInfo
	return res, c.post(ctx, api.PathMapGet, api.MapRequest{Map: r}, &res)
}

// Lookup returns the value of key (all slots' values of a per-CPU map).
func (c *Client) Lookup(ctx context.Context, r api.Ref, key []byte) ([]byte, error) {
	var res api.MapResult
	if err := c.post(ctx, api.PathMapLookup, api.MapRequest{Map: r, Key: key}, &res); err != nil {
		return nil, err
	}
	if len(res.Entries) != 1 {
		return nil, fmt.Errorf("daemon's answer has %d entries, want 1", len(res.Entries))
	}
	return res.Entries[0].Value, nil
}

// Update sets key's value; flags are 0 (any), 1 (noexist) or 2 (exist).
// When it returns nil the daemon has the update on disk.
func (c *Client) Update(ctx context.Context, r api.Ref, key, value []byte, flags uint64) error {
	return c.post(ctx, api.PathMapUpdate, api.MapRequest{Map: r, Key: key, Value: value, Flags: flags}, nil)
}

// UpdateObject sets key of a program array to a program, or of a map of
// maps to a map, named as bpftool names them ("value id N", "value pinned
// PATH"); flags as for Update. The daemon keeps the entry across restarts
// (the object it names too) and lookups return the object's ID.
func (c *Client) UpdateObject(ctx context.Context, r api.Ref, key []byte, value api.Ref, flags uint64) error {
	return c.post(ctx, api.PathMapUpdate, api.MapRequest{Map: r, Key: key, ValueRef: &value, Flags: flags}, nil)
}

// Delete deletes key.
func (c *Client) Delete(ctx context.Context, r api.Ref, key []byte) error {
	return c.post(ctx, api.PathMapDelete, api.MapRequest{Map: r, Key: key}, nil)
}

// NextKey returns the key after key, or the first key if key is nil.
func (c *Client) NextKey(ctx context.Context, r api.Ref, key []byte) ([]byte, error) {
	var res api.MapResult
	err := c.post(ctx, api.PathMapNextKey, api.MapRequest{Map: r, Key: key, NoKey: key == nil}, &res)
	return res.NextKey, err
}

// Dump returns every entry of a map; slots is the number of per-CPU values
// of a per-CPU map's values, 0 otherwise.
func (c *Client) Dump(ctx context.Context, r api.Ref) (entries []api.Entry, slots int, err error) {
	var res api.MapResult
	err = c.post(ctx, api.PathMapDump, api.MapRequest{Map: r}, &res)
	return res.Entries, res.Slots, err
}

// Xlated lists a program's instructions as loaded (bpftool prog dump
// xlated).
func (c *Client) Xlated(ctx context.Context, r api.Ref) ([]api.XlatedInsn, error) {
	var res []api.XlatedInsn
	return res, c.post(ctx, api.PathProgDump, api.ProgRequest{Prog: r}, &res)
}

// Freeze makes a map read-only for user space (bpftool map freeze).
func (c *Client) Freeze(ctx context.Context, r api.Ref) error {
	return c.post(ctx, api.PathMapFreeze, api.MapRequest{Map: r}, nil)
}

// EventPipe streams a ring buffer's records (or a perf event array's
// samples) to fn until ctx ends, fn returns an error, or the daemon ends
// the stream (bpftool map event_pipe). The end of ctx is not an error.
// Reports of lost perf samples are skipped: Events has them.
func (c *Client) EventPipe(ctx context.Context, r api.Ref, fn func(data []byte) error) error {
	return c.Events(ctx, r, func(ev api.Event) error {
		if ev.Lost != 0 {
			return nil
		}
		return fn(ev.Data)
	})
}

// Events is EventPipe with each record as the daemon sent it: with the
// CPU (slot) of a perf sample, and reports of lost samples.
func (c *Client) Events(ctx context.Context, r api.Ref, fn func(api.Event) error) error {
	b, err := json.Marshal(api.MapRequest{Map: r})
	if err != nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://bpfhost"+api.PathMapEventPipe, bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return errorOf(resp.StatusCode, b)
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev api.Event
		if err := dec.Decode(&ev); err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("event pipe: %w", err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}
