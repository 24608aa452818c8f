package daemon

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

func autoloadObject(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/autoload/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLoadAutoload: programs of "?" sections are not pinned by "prog
// load" or "prog loadall", which fail as bpftool's do (libbpf does not
// load them, so they cannot be pinned) and leave nothing loaded; a
// request that names one loads it.
func TestLoadAutoload(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		req     api.LoadRequest
		wantErr string // the program the error names; "" for success
		want    []string
	}{
		{"load, first autoloaded", api.LoadRequest{Object: autoloadObject(t, "autoload.o"), PinPath: "/bpf/a"}, "", []string{"xdp_pass"}},
		// The first in the object's order, as libbpf's error names it.
		{"loadall", api.LoadRequest{Object: autoloadObject(t, "autoload.o"), PinPath: "/bpf/all", All: true}, "xdp_drop", nil},
		{"load, first not autoloaded", api.LoadRequest{Object: autoloadObject(t, "first.o"), PinPath: "/bpf/f"}, "opt", nil},
		{"load by name", api.LoadRequest{Object: autoloadObject(t, "autoload.o"), PinPath: "/bpf/d", Program: "xdp_drop"}, "", []string{"xdp_drop"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDaemon(t, t.TempDir())
			defer d.Close()
			res, err := d.Load(ctx, tt.req)
			if tt.wantErr != "" {
				if err == nil || CodeOf(err) != api.CodeInvalid || !strings.Contains(err.Error(), `"`+tt.wantErr+`"`) || !strings.Contains(err.Error(), `SEC("?`) {
					t.Fatalf("Load: %v; want an invalid-request error naming %s and its \"?\" section", err, tt.wantErr)
				}
				if progs := d.Programs(); len(progs) != 0 {
					t.Errorf("after the refused load, %d programs are loaded", len(progs))
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var got []string
			for _, p := range res.Programs {
				got = append(got, p.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("loaded %v, want %v", got, tt.want)
			}
			run, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: tt.req.PinPath}, DataIn: make([]byte, 64)})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]uint32{"xdp_pass": 2, "xdp_drop": 1}[tt.want[0]]; run.Retval != want {
				t.Errorf("%s returned %d, want %d", tt.want[0], run.Retval, want)
			}
		})
	}
}
