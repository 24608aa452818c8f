package daemon

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestPinNamesStayInTheirDirectory loads an object whose map is named ".."
// and one of whose programs is "a/b": pinned by name under a directory
// (pinmaps, "all"), the map landed at "/" (a pin no unpin removes) and the
// program a directory deeper. Such loads are refused, EINVAL, and nothing
// is pinned; without a state directory, the object loads with a program
// pinned by path.
func TestPinNamesStayInTheirDirectory(t *testing.T) {
	obj, err := os.ReadFile("testdata/pinnames.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{"", t.TempDir()} {
		d := newTestDaemon(t, state)
		ctx := context.Background()
		for _, req := range []api.LoadRequest{
			{Object: obj, Program: "count", PinPath: "/p/count", PinMaps: "/p"},
			{Object: obj, All: true, PinPath: "/p"},
		} {
			what := fmt.Sprintf("state %q: load (all %v, pinmaps %q)", state, req.All, req.PinMaps)
			_, err := d.Load(ctx, req)
			if CodeOf(err) != api.CodeInvalid || err == nil {
				t.Errorf("%s: %v, want EINVAL", what, err)
			}
			d.mu.Lock()
			for p := range d.pins {
				t.Errorf("%s: pinned %s", what, p)
				delete(d.pins, p) // (the next load would find it taken)
			}
			d.mu.Unlock()
		}
		// (With a state directory, the map's memory file refuses the
		// name in any case.)
		if state == "" {
			if _, err := d.Load(ctx, api.LoadRequest{Object: obj, Program: "count", PinPath: "/p/count"}); err != nil {
				t.Errorf("load without pins by name: %v", err)
			}
			if err := d.Unpin("/p/count"); err != nil {
				t.Error(err)
			}
		}
		d.Close()
	}
}

// TestPinByNameStaysInPinRoot: a map pinned by name (LIBBPF_PIN_BY_NAME)
// named "../escaped" was pinned at /sys/fs/escaped, outside PinRoot; the
// load is refused, EINVAL, and nothing is pinned.
func TestPinByNameStaysInPinRoot(t *testing.T) {
	obj, err := os.ReadFile("testdata/pinbyname.o")
	if err != nil {
		t.Fatal(err)
	}
	d := newTestDaemon(t, "")
	defer d.Close()
	_, err = d.Load(context.Background(), api.LoadRequest{Object: obj, PinPath: "/p/count"})
	if CodeOf(err) != api.CodeInvalid || err == nil {
		t.Errorf("load: %v, want EINVAL", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for p := range d.pins {
		t.Errorf("pinned %s", p)
	}
}
