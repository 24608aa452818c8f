package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/daemon/api"
)

// TestReuseProgramArrayConcurrent: loads that reuse one object's program
// array (testdata/share_a.c's jmp, by share_b.c), updates of it through
// the API (of slot 2, where each load stores its own leaf too), runs that
// tail-call through it and unpins, all at once. Which leaf stands in
// jmp[2] depends on scheduling; that one does is certain once a goroutine
// has loaded (the array holds it after its pin goes), so every run on a
// packet of byte 2 returns XDP_TX. Afterwards the array holds what its
// table says, slot by slot, whatever order the calls took; a restart on
// the state directory gives the same; and with every pin removed nothing
// is left, in memory or in the state directory (the cycles of program
// arrays and reused maps are collected).
func TestReuseProgramArrayConcurrent(t *testing.T) {
	state := t.TempDir()
	d := newTestDaemon(t, state)
	defer d.Close()
	ctx := context.Background()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := read("share_a.o"), read("share_b.o")
	if _, err := d.Load(ctx, api.LoadRequest{Object: a, ObjectName: "share_a", All: true, PinPath: "/a", PinMaps: "/am"}); err != nil {
		t.Fatal(err)
	}
	const n, rounds = 4, 3
	pkt := append([]byte{2}, make([]byte, 63)...)
	done := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			done <- func() error {
				for k := 0; k < rounds; k++ {
					dir := fmt.Sprintf("/b%d.%d", i, k)
					_, err := d.Load(ctx, api.LoadRequest{Object: b, ObjectName: "share_b", All: true, PinPath: dir,
						Maps: []api.MapReplacement{{Name: "jmp", Map: api.Ref{Pinned: "/am/jmp"}}, {Name: "outer", Map: api.Ref{Pinned: "/am/outer"}}}})
					if err != nil {
						return err
					}
					if err := d.Update(api.MapRequest{Map: api.Ref{Pinned: "/am/jmp"}, Key: u32(2), ValueRef: &api.Ref{Pinned: dir + "/leaf_b"}}); err != nil {
						return err
					}
					res, err := d.Run(ctx, api.RunRequest{Prog: api.Ref{Pinned: dir + "/entry_b"}, DataIn: pkt})
					if err != nil {
						return err
					}
					if res.Retval != xdpTX {
						return fmt.Errorf("%s: verdict %d through jmp[2], want a leaf's XDP_TX", dir, res.Retval)
					}
					for _, p := range []string{"/entry_b", "/leaf_b"} {
						if err := d.Unpin(dir + p); err != nil {
							return err
						}
					}
				}
				return nil
			}()
		}(i)
	}
	for i := 0; i < n; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// slots are jmp's slots as the map holds them and as its table says
	// (program IDs; 0 for an empty slot).
	slots := func(d *Daemon) (held, table [4]uint32) {
		d.mu.Lock()
		defer d.mu.Unlock()
		m := d.pins["/am/jmp"].(*mapObj)
		for k := uint32(0); k < 4; k++ {
			var id uint32
			if err := m.m.Lookup(k, &id); err == nil {
				held[k] = id
			}
			if e := m.refs.entries[string(u32(k))]; e != nil {
				table[k] = e.obj.(*prog).p.ID()
			}
		}
		return held, table
	}
	if held, table := slots(d); held != table {
		t.Fatalf("jmp holds programs %v, its table says %v", held, table)
	}
	// A restart as after SIGKILL: the first daemon lets its lock go.
	d.lock.Close()
	d2 := newTestDaemon(t, state)
	defer d2.Close()
	if held, table := slots(d2); held != table || table[0] == 0 || table[2] == 0 {
		t.Fatalf("restored: jmp holds programs %v, its table says %v (want slots 0 and 2 filled)", held, table)
	}
	for _, p := range []string{"/a/entry_a", "/a/leaf_a", "/am/jmp", "/am/outer", "/am/inner", "/am/share_a_rodata", "/am/share_a_bss"} {
		if err := d2.Unpin(p); err != nil {
			t.Fatal(err)
		}
	}
	if ps, ms := d2.Programs(), d2.Maps(); len(ps) != 0 || len(ms) != 0 {
		t.Fatalf("left after unpinning everything: %d programs, %d maps", len(ps), len(ms))
	}
	if ents, _ := os.ReadDir(filepath.Join(state, "units")); len(ents) != 0 {
		t.Fatalf("state left behind: %v", ents)
	}
}
