package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// longPath is an absolute path of n bytes whose elements are at most
// maxPinName long.
func longPath(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString("/")
		b.WriteString(strings.Repeat("a", min(maxPinName, n-b.Len())))
	}
	return b.String()
}

// TestNewPinPathLimits: a new pin's path is at most PATH_MAX-1 bytes and
// its elements NAME_MAX (ENAMETOOLONG beyond), with no control
// characters (EINVAL), for every call that pins; a pin the state
// directory holds that breaks these rules (from an older daemon) is
// still restored, found and unpinned.
func TestNewPinPathLimits(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	ctx := context.Background()
	obj := counterObject(t)
	if _, err := d.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/p/c"}); err != nil {
		t.Fatal(err)
	}
	prog := api.Ref{Pinned: "/p/c"}
	for _, tc := range []struct {
		at   string
		code string // "" for success
	}{
		{longPath(maxPinPath), ""},
		{longPath(maxPinPath + 1), api.CodeNameTooLong},
		{"/p/" + strings.Repeat("n", maxPinName), ""},
		{"/p/" + strings.Repeat("n", maxPinName+1), api.CodeNameTooLong},
		{"/p/a\nprog b", api.CodeInvalid},
		{"/p/a\tb", api.CodeInvalid},
		{"/p/a\x1b[2Jb", api.CodeInvalid},
		{"/p/a\x7fb", api.CodeInvalid},
		{"/p/naïve", ""},
	} {
		err := d.Pin(prog, tc.at, true)
		if tc.code == "" {
			if err != nil {
				t.Errorf("pin at %q: %v", truncPath(tc.at), err)
			} else if err := d.Unpin(tc.at); err != nil {
				t.Error(err)
			}
			continue
		}
		if err == nil || CodeOf(err) != tc.code {
			t.Errorf("pin at %q: %v (%s), want %s", truncPath(tc.at), err, CodeOf(err), tc.code)
		}
	}
	bad := "/p/a\nb"
	if _, err := d.CreateMap(ctx, api.MapCreateRequest{Path: bad, Type: "array", KeySize: 4, ValueSize: 4, MaxEntries: 1, Name: "m"}); CodeOf(err) != api.CodeInvalid {
		t.Errorf("map create at %q: %v, want EINVAL", bad, err)
	}
	if _, err := d.Load(ctx, api.LoadRequest{Object: obj, PinPath: longPath(maxPinPath + 1)}); CodeOf(err) != api.CodeNameTooLong {
		t.Errorf("load at a long path: %v, want ENAMETOOLONG", err)
	}
	// pinmaps' directory is within the limit, its maps' paths are not.
	if _, err := d.Load(ctx, api.LoadRequest{Object: obj, PinPath: "/p/c2", PinMaps: longPath(maxPinPath - 2)}); CodeOf(err) != api.CodeNameTooLong {
		t.Errorf("load with maps pinned beyond PATH_MAX: %v, want ENAMETOOLONG", err)
	}
	d.Close()

	// An older daemon stored a pin these rules refuse.
	metas, _ := filepath.Glob(filepath.Join(state, "units", "*", "unit.json"))
	if len(metas) != 1 {
		t.Fatalf("units: %v", metas)
	}
	b, err := os.ReadFile(metas[0])
	if err != nil {
		t.Fatal(err)
	}
	odd := longPath(maxPinPath+10) + "/x\ny"
	q, _ := json.Marshal(odd)
	b = []byte(strings.Replace(string(b), `"/p/c"`, string(q), 1))
	if err := os.WriteFile(metas[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	d = newTestDaemon(t, state)
	defer d.Close()
	if _, err := d.Program(api.Ref{Pinned: odd}); err != nil {
		t.Fatalf("the stored pin was not restored: %v", err)
	}
	if err := d.Unpin(odd); err != nil {
		t.Fatalf("unpin of the stored pin: %v", err)
	}
}

// TestErrorStatuses: EBUSY answers 409 (a conflict with the object's
// state), an error no check classifies is EIO, and a path that names no
// call is 404 with EINVAL, as Linux's bpf() answers a command it does not
// know (ENOENT would tell a client, and the CLI, that the key or object
// is missing).
func TestErrorStatuses(t *testing.T) {
	sock, _ := serve(t, Options{Engine: "interp"}, nil)
	c := dialTest(t, sock)
	ctx := context.Background()
	if _, err := c.CreateMap(ctx, api.MapCreateRequest{Path: "/m", Type: "array", KeySize: 4, ValueSize: 4, MaxEntries: 1, Name: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Freeze(ctx, api.Ref{Pinned: "/m"}); err != nil {
		t.Fatal(err)
	}
	var re *remote.Error
	if err := c.Freeze(ctx, api.Ref{Pinned: "/m"}); !errors.As(err, &re) || re.Code != api.CodeBusy || re.Status != http.StatusConflict {
		t.Errorf("a second freeze: %v (%+v), want EBUSY with 409", err, re)
	}
	if code := CodeOf(errors.New("something the daemon did not foresee")); code != api.CodeInternal {
		t.Errorf("an unclassified error: %s, want EIO", code)
	}
	raw := dialRaw(t, sock)
	raw.Write([]byte("POST /v1/no/such HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"))
	if b := readToClose(t, raw, "no such call"); !strings.HasPrefix(b, "HTTP/1.1 404 ") || !strings.Contains(b, api.CodeInvalid) {
		t.Errorf("no such call: %q, want 404 EINVAL", b)
	}
}
