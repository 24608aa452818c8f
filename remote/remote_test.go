package remote

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

func TestSocket(t *testing.T) {
	t.Setenv(SocketEnv, "")
	if got := Socket(""); got != DefaultSocket {
		t.Errorf("no flag, no env: %s", got)
	}
	t.Setenv(SocketEnv, "/env.sock")
	if got := Socket(""); got != "/env.sock" {
		t.Errorf("env: %s", got)
	}
	if got := Socket("/flag.sock"); got != "/flag.sock" {
		t.Errorf("flag over env: %s", got)
	}
}

// fakeDaemon serves version v and answers every other call with a 404
// ENOENT error.
func fakeDaemon(t *testing.T, v string) string {
	sock := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == api.PathVersion {
			json.NewEncoder(w).Encode(api.VersionInfo{API: v})
			return
		}
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(api.Error{Code: api.CodeNotFound, Message: "no map with id 7"})
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func TestErrors(t *testing.T) {
	if _, err := Dial(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "daemon at") {
		t.Errorf("dialling nothing: %v", err)
	}
	if _, err := Dial(fakeDaemon(t, "v9")); err == nil || !strings.Contains(err.Error(), `speaks API "v9"`) {
		t.Errorf("dialling another API version: %v", err)
	}
	c, err := Dial(fakeDaemon(t, api.Version))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Lookup(context.Background(), api.Ref{ID: 7}, []byte{0, 0, 0, 0})
	var re *Error
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists) || !errors.As(err, &re) || re.Status != 404 || re.Message != "no map with id 7" {
		t.Errorf("a 404: %#v", err)
	}
}
