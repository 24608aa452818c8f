package daemon

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestReferenceLogCorrupt: records of a reference map's log that no update
// could have written (a devmap entry naming a program without its value
// bytes, or one that is no devmap program, a key of the wrong size, a program array entry naming a map) are
// dropped at restore without a panic, the good entries come back, and the
// map's log still records updates made after the restore.
func TestReferenceLogCorrupt(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	ctx := context.Background()
	if _, err := d.Load(ctx, api.LoadRequest{Object: refsObject(t), All: true, PinPath: "/a", PinMaps: "/a/maps"}); err != nil {
		t.Fatal(err)
	}
	egress, err := d.Program(api.Ref{Pinned: "/a/egress"})
	if err != nil {
		t.Fatal(err)
	}
	devs, jmp := api.Ref{Pinned: "/a/maps/devs"}, api.Ref{Pinned: "/a/maps/jmp"}
	if err := d.Update(api.MapRequest{Map: devs, Key: u32(2), Value: append(u32(7), u32(egress.ID)...)}); err != nil {
		t.Fatal(err)
	}
	if err := d.Update(api.MapRequest{Map: jmp, Key: u32(0), ValueRef: &api.Ref{Pinned: "/a/to_tx"}}); err != nil {
		t.Fatal(err)
	}
	logs, _ := filepath.Glob(filepath.Join(state, "units", "*", "refs", "devs"))
	if len(logs) != 1 {
		t.Fatalf("devs logs: %v", logs)
	}
	unit := filepath.Base(filepath.Dir(filepath.Dir(logs[0])))
	target := `{"target":{"unit":` + unit + `,"kind":"prog","name":"egress"}}`
	add := func(name string, recs ...walRecord) {
		path := filepath.Join(filepath.Dir(logs[0]), name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			b = appendRecord(b, r)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	add("devs",
		walRecord{op: walUpdate, key: u32(3), value: []byte(target)},
		walRecord{op: walUpdate, key: []byte{1, 2, 3}, value: []byte(`{"value":"AQAAAAAAAAA="}`)},
		walRecord{op: walUpdate, key: u32(4), value: []byte(`{"value":"AQAAAAAAAAA=","target":{"unit":` + unit + `,"kind":"map","name":"jmp"}}`)},
		walRecord{op: walUpdate, key: u32(0), value: []byte(`{"value":"AQAAAAAAAAA=","target":{"unit":` + unit + `,"kind":"prog","name":"to_tx"}}`)})
	add("jmp",
		walRecord{op: walUpdate, key: u32(1), value: []byte(`{"target":{"unit":` + unit + `,"kind":"map","name":"devs"}}`)},
		walRecord{op: walUpdate, key: u32(2), value: []byte(`{"value":"AQAAAA==","target":{"unit":` + unit + `,"kind":"prog","name":"to_drop"}}`)})

	d2 := restart(t, d, state)
	dump, err := d2.Dump(api.MapRequest{Map: devs})
	if err != nil {
		t.Fatal(err)
	}
	if len(dump.Entries) != 1 || binary.NativeEndian.Uint32(dump.Entries[0].Key) != 2 {
		t.Fatalf("devs after restoring a corrupt log: %v, want devs[2] only", dump.Entries)
	}
	dump, err = d2.Dump(api.MapRequest{Map: jmp})
	if err != nil {
		t.Fatal(err)
	}
	if len(dump.Entries) != 1 || binary.NativeEndian.Uint32(dump.Entries[0].Key) != 0 {
		t.Fatalf("jmp after restoring a corrupt log: %v, want jmp[0] only", dump.Entries)
	}
	// The logs are open: an update after the restore survives another.
	if err := d2.Update(api.MapRequest{Map: devs, Key: u32(1), Value: append(u32(9), u32(0)...)}); err != nil {
		t.Fatal(err)
	}
	d3 := restart(t, d2, state)
	if _, err := d3.Lookup(api.MapRequest{Map: devs, Key: u32(1)}); err != nil {
		t.Fatalf("devs[1], set after a restore from a corrupt log, is lost: %v", err)
	}
}
