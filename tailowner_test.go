package bpfhost

import (
	"errors"
	"strings"
	"testing"
)

// TestProgramArrayOwner: a program array holds programs of one type, as in
// Linux: programs of two types cannot both use it, and a program of
// another type than its users cannot be stored in it (by value or by ID),
// so a tc program never runs on an XDP context.
func TestProgramArrayOwner(t *testing.T) {
	spec, err := LoadCollectionSpec("testdata/tailtype/tailtype.o")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := NewCollection(spec, nil); err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"jmp"`) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("an XDP and a tc program using one program array: %v, want ErrInvalid", err)
	}
	for _, eng := range []Engine{EngineInterp, EngineJIT} {
		c, err := NewCollection(spec, &CollectionOptions{Engine: eng, Programs: []string{"entry", "xdp_tx", "victim"}})
		if err != nil {
			t.Fatal(err)
		}
		jmp := c.Maps["jmp"]
		victim := c.Programs["victim"]
		if err := jmp.Update(uint32(0), victim, UpdateAny); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: storing a tc program in an XDP program array: %v, want ErrInvalid", eng, err)
		}
		if err := jmp.Update(uint32(0), victim.ID(), UpdateAny); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: storing a tc program's ID in an XDP program array: %v, want ErrInvalid", eng, err)
		}
		data := make([]byte, 64)
		out := make([]byte, 64)
		if r, err := c.Programs["entry"].Run(&RunOptions{Data: data, DataOut: out}); err != nil || r != 2 {
			t.Errorf("%v: empty slot: %d, %v, want XDP_PASS", eng, r, err)
		}
		if err := jmp.Update(uint32(0), c.Programs["xdp_tx"], UpdateAny); err != nil {
			t.Fatal(err)
		}
		if r, err := c.Programs["entry"].Run(&RunOptions{Data: data, DataOut: out}); err != nil || r != 3 {
			t.Errorf("%v: tail call to xdp_tx: %d, %v, want XDP_TX", eng, r, err)
		}
		c.Close()
	}
}
