package platform

import (
	"errors"
	"testing"
)

// TestAddKfuncs checks the kfunc table's index: lookups by name and number,
// program types, and the tables refused.
func TestAddKfuncs(t *testing.T) {
	a, _ := testABI(t)
	next := &KfuncProto{ID: 2, Name: "bpf_iter_num_next", Args: [5]ArgKind{ArgIterNum}, Ret: RetIterNumOrNull}
	xdpOnly := &KfuncProto{ID: 3, Name: "bpf_xdp_only", ProgramTypes: []ProgramType{6}}
	if err := a.AddKfuncs([]*KfuncProto{next, xdpOnly}); err != nil {
		t.Fatal(err)
	}
	if k, ok := a.KfuncByName("bpf_iter_num_next"); !ok || k != next {
		t.Errorf("KfuncByName: %v, %v", k, ok)
	}
	if k, ok := a.KfuncByID(3); !ok || k != xdpOnly {
		t.Errorf("KfuncByID: %v, %v", k, ok)
	}
	if _, ok := a.KfuncByName("bpf_missing"); ok {
		t.Error("KfuncByName found a kfunc the table lacks")
	}
	if !next.AllowedFor(1) || xdpOnly.AllowedFor(1) || !xdpOnly.AllowedFor(6) {
		t.Error("AllowedFor: nil program types must allow all, a list only its own")
	}
	for _, bad := range [][]*KfuncProto{
		{{ID: 2, Name: "bpf_other"}},           // number taken
		{{ID: 9, Name: "bpf_iter_num_next"}},   // name taken
		{{ID: 9, Name: "bpf_map_lookup_elem"}}, // a helper's name
		{{ID: 0, Name: "bpf_zero"}},            // no number
		{{ID: 9}},                              // no name
		{{ID: 9, Name: "bpf_gap", Args: [5]ArgKind{ArgNone, ArgAnything}}},   // gap in the arguments
		{{ID: 9, Name: "bpf_rel", Args: [5]ArgKind{ArgIterNum}, Release: 2}}, // releases a missing argument
	} {
		if err := a.AddKfuncs(bad); !errors.Is(err, ErrInvalidDescriptor) {
			t.Errorf("AddKfuncs(%v): %v, want ErrInvalidDescriptor", bad[0], err)
		}
	}
}
