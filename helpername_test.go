package bpfhost

import "testing"

func TestHelperName(t *testing.T) {
	for id, want := range map[int32]string{1: "bpf_map_lookup_elem", 88: "bpf_map_pop_elem", 100000: "helper#100000", -1: "helper#-1"} {
		if got := HelperName(id); got != want {
			t.Errorf("HelperName(%d) = %q, want %q", id, got, want)
		}
	}
}
