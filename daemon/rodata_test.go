package daemon

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestRodataFrozen: the daemon loads an object whose .rodata constants the
// verifier read (testdata/rodata's last_port reads ports[ports_len-1],
// accepted only because ports_len is the constant 0), in its verifier
// child and in its own load alike (their digests agree). The .rodata map
// is frozen: the daemon's map update is refused, also after a restart; a
// second freeze says it is frozen already. With map memory files and with
// logs only (as on systems without memory files): before, the restart
// replayed the map's log into the frozen map, which refused it, and the
// unit was lost.
func TestRodataFrozen(t *testing.T) {
	for _, logsOnly := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory-files", true: "logs-only"}[logsOnly], func(t *testing.T) {
			testRodataFrozen(t, logsOnly)
		})
	}
}

func testRodataFrozen(t *testing.T, logsOnly bool) {
	obj, err := os.ReadFile("../testdata/rodata/rodata.o")
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	newDaemon := func() *Daemon {
		d, err := New(Options{StateDir: state, Engine: "interp", Logger: slog.New(slog.DiscardHandler), logsOnly: logsOnly})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := newDaemon()
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: obj, Program: "last_port", PinPath: "/r", PinMaps: "/rm"}); err != nil {
		t.Fatal(err)
	}
	rodata := api.Ref{Pinned: "/rm/.rodata"}
	check := func(d *Daemon, when string) {
		t.Helper()
		info, err := d.Map(rodata)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if info.Frozen != 1 {
			t.Errorf("%s: .rodata map %+v, want frozen", when, info)
		}
		value := make([]byte, info.BytesValue)
		value[0] = 9
		if err := d.Update(api.MapRequest{Map: rodata, Key: u32(0), Value: value}); CodeOf(err) != api.CodePerm {
			t.Errorf("%s: update of the frozen .rodata map: %v", when, err)
		}
		if err := d.Freeze(rodata); CodeOf(err) != api.CodeBusy {
			t.Errorf("%s: freeze of the frozen .rodata map: %v", when, err)
		}
		v, err := d.Lookup(api.MapRequest{Map: rodata, Key: u32(0)})
		if err != nil || len(v.Entries) != 1 || v.Entries[0].Value[0] != 0 {
			t.Errorf("%s: .rodata holds %+v, %v; want ports_len 0", when, v, err)
		}
		frame := make([]byte, 64)
		if _, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: "/r"}, DataIn: frame}); err != nil {
			t.Errorf("%s: run: %v", when, err)
		}
	}
	check(d, "loaded")
	d.lock.Close()
	d2 := newDaemon()
	defer d2.Close()
	check(d2, "restarted")
	d.Close()
}
