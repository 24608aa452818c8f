package bpfhost_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestCollectionOptionsPrograms checks per-program selection: only the
// named program and the programs its program arrays reach are loaded, so
// that an unsafe program elsewhere in the object does not stop it.
func TestCollectionOptionsPrograms(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("testdata/cli/select.o")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bpfhost.NewCollection(spec, nil); err == nil || !strings.Contains(err.Error(), "xdp_unsafe") {
		t.Fatalf("the whole object: %v, want xdp_unsafe rejected", err)
	}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Programs: []string{"xdp_entry"}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	if len(coll.Programs) != 2 || coll.Programs["xdp_leaf"] == nil || coll.Programs["xdp_unsafe"] != nil {
		t.Errorf("loaded %v, want xdp_entry and xdp_leaf", coll.Programs)
	}
	ret, err := coll.Programs["xdp_entry"].Run(&bpfhost.RunOptions{Data: make([]byte, 60)})
	if err != nil || ret != 3 { // XDP_TX from xdp_leaf, by tail call
		t.Errorf("xdp_entry: %d, %v; want 3 (XDP_TX)", ret, err)
	}
	if _, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Programs: []string{"nope"}}); !errors.Is(err, bpfhost.ErrInvalid) {
		t.Errorf("an unknown program: %v, want ErrInvalid", err)
	}
}

// TestNewCollectionNil checks that a nil spec is an error, not a panic.
func TestNewCollectionNil(t *testing.T) {
	if _, err := bpfhost.NewCollection(nil, nil); !errors.Is(err, bpfhost.ErrInvalid) {
		t.Errorf("NewCollection(nil, nil): %v, want ErrInvalid", err)
	}
}
