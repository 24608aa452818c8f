package daemon

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestBodyOverLimit: a body over its call's limit (an event pipe's is 1
// MiB) is E2BIG, not a malformed request.
func TestBodyOverLimit(t *testing.T) {
	sock, _ := serve(t, Options{Engine: "interp"}, nil)
	body := `{"map":{"name":"` + strings.Repeat("a", 1<<20) + `"}}`
	c := dialRaw(t, sock)
	c.Write(rawBody("POST", api.PathMapEventPipe, []byte(body)))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	var e api.Error
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != statusOf(api.CodeTooBig) || e.Code != api.CodeTooBig {
		t.Fatalf("%s %+v (%v), want %d E2BIG", resp.Status, e, err, statusOf(api.CodeTooBig))
	}
}
