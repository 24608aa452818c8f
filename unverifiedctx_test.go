package bpfhost_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// TestUnverifiedContextPointers: an unverified tc program (checked
// interpreter) that keeps its context pointer in a map value, where the
// classification of context accesses does not follow it, could write the
// host sk_buff's data pointer, which lay in the context's writable
// region; the test run then sliced the packet buffer with it, and the
// process died of a Go panic. The run then ended with ErrInvalid from a
// check after the run; now the write itself is refused: only the
// writable fields are writable regions (ctxregions.go).
func TestUnverifiedContextPointers(t *testing.T) {
	var sc linux.SKBContext
	prog, err := isa.Assemble(fmt.Sprintf(`
		mov %%r6, %%r1
		stw [%%r10-4], 0
		lddw %%r1, 0
		mov %%r2, %%r10
		add %%r2, -4
		call 1
		jne %%r0, 0, +2
		mov %%r0, 0
		exit
		stxdw [%%r0+0], %%r6
		ldxdw %%r2, [%%r0+0]
		lddw %%r4, 0x4141414141414141
		stxdw [%%r2+%d], %%r4
		mov %%r0, 0
		exit`, unsafe.Offsetof(sc.Data)))
	if err != nil {
		t.Fatal(err)
	}
	prog[2].Src = isa.PseudoMapIdx
	spec := &bpfhost.CollectionSpec{
		Maps: []*bpfhost.MapSpec{{Name: "m", Type: uint32(maps.Array), KeySize: 4, ValueSize: 8, MaxEntries: 1}},
		Programs: []*bpfhost.ProgramSpec{{Name: "u", Section: "tc", License: "GPL", Instructions: prog,
			References: []object.Reference{{Slot: 2, Kind: object.RefMap, Name: "m", Map: 0}}}},
	}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Unverified: true, Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	_, err = coll.Programs["u"].Run(&bpfhost.RunOptions{Data: make([]byte, 64), DataOut: make([]byte, 0, 64)})
	var ae *vm.AccessError
	if !errors.As(err, &ae) || !ae.Write || !strings.Contains(err.Error(), "read-only context") {
		t.Errorf("run: %v, want the write refused in the read-only context", err)
	}
}
