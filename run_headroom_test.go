package bpfhost_test

import (
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
)

// TestRunHeadroomIsFresh: test runs reuse their slot's packet page, but
// every run starts with zeroed headroom, as Linux's fresh page does. The
// program grows the packet into the headroom, returns what it finds
// there, and leaves 0xff bytes behind for the next run.
func TestRunHeadroomIsFresh(t *testing.T) {
	prog, err := isa.Assemble(`
		mov %r6, %r1
		mov %r2, -64
		call 44
		jne %r0, 0, fail
		ldxw %r2, [%r6+0]
		ldxw %r3, [%r6+4]
		mov %r4, %r2
		add %r4, 64
		jgt %r4, %r3, fail
		ldxw %r0, [%r2+0]
		stw [%r2+0], -1
		exit
	fail:
		mov %r0, 99
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	spec := &bpfhost.CollectionSpec{Programs: []*bpfhost.ProgramSpec{{Name: "grow", Section: "xdp", License: "GPL", Instructions: prog}}}
	for _, engine := range bpfhost.Engines() {
		coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Slots: 1})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if got, err := coll.Programs["grow"].Run(&bpfhost.RunOptions{Data: make([]byte, 64)}); got != 0 || err != nil {
				t.Errorf("%s, run %d: %#x, %v; want 0 (zeroed headroom)", engine, i, got, err)
			}
		}
		coll.Close()
	}
}
