package bpfhost_test

import (
	"strconv"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
)

// TestTailCallContextSize: a test run of a raw_tracepoint or syscall
// program takes a context of the caller's size, at least as long as the
// furthest byte the program reads (Linux's max_ctx_offset). A program it
// tail-calls was not counted: it read past the context (in checked mode
// an invalid read; trusted, host memory beyond the caller's buffer). The
// run of a program that may tail-call now gives it a context of the
// type's largest size, zero past the caller's bytes, so a tail-called
// program reads zeros there, and the context out keeps the caller's size.
func TestTailCallContextSize(t *testing.T) {
	entry, err := isa.Assemble(`
		lddw r2, 0
		mov r3, 0
		call 12
		mov r0, 7
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	entry[0].Src = isa.PseudoMapIdx
	for _, tt := range []struct {
		section string
		off     int
	}{
		{"raw_tp/sys_enter", 88},
		{"syscall", 4096},
	} {
		callee, err := isa.Assemble(`
			ldxdw r0, [r1+` + strconv.Itoa(tt.off) + `]
			add r0, 1
			exit`)
		if err != nil {
			t.Fatal(err)
		}
		spec := &bpfhost.CollectionSpec{
			Maps: []*bpfhost.MapSpec{{Name: "jmp", Type: uint32(maps.ProgramArray), KeySize: 4, ValueSize: 4, MaxEntries: 1}},
			Programs: []*bpfhost.ProgramSpec{
				{Name: "entry", Section: tt.section, License: "GPL", Instructions: entry,
					References: []object.Reference{{Slot: 0, Kind: object.RefMap, Name: "jmp", Map: 0}}},
				{Name: "callee", Section: tt.section, License: "GPL", Instructions: callee},
			},
		}
		for _, engine := range bpfhost.Engines() {
			coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Checked: true})
			if err != nil {
				t.Fatalf("%s %s: %v", tt.section, engine, err)
			}
			if err := coll.Maps["jmp"].Update(uint32(0), coll.Programs["callee"], bpfhost.UpdateAny); err != nil {
				t.Fatal(err)
			}
			in := []byte{1, 2, 3, 4, 5, 6, 7, 8}
			opts := &bpfhost.RunOptions{Context: in}
			var out []byte
			if tt.section == "syscall" {
				out = make([]byte, len(in))
				opts.ContextOut = out
			}
			r, err := coll.Programs["entry"].Run(opts)
			if err != nil || r != 1 {
				t.Errorf("%s %s: context of %d bytes, callee reads at %d: %d, %v; want 1 (zero read + 1)", tt.section, engine, len(in), tt.off, r, err)
			}
			if out != nil && string(out) != string(in) {
				t.Errorf("%s %s: context out %v, want %v", tt.section, engine, out, in)
			}
			coll.Close()
		}
	}
}
