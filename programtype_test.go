package bpfhost

import (
	"errors"
	"strings"
	"testing"
)

const sectionsObject = "testdata/types/sections.o"

func TestProgramTypeSources(t *testing.T) {
	spec, err := LoadCollectionSpec(sectionsObject)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		program string
		opts    *CollectionOptions
		typ     string
		source  TypeSource
		noType  bool
	}{
		{"cls_main", nil, "sched_cls", TypeFromSection, false},
		{"xdp_ttl_prog", nil, "xdp", TypeFromPrefix, false},
		{"from_netdev", nil, "", "", true},
		{"tail_three", &CollectionOptions{}, "", "", true},
		{"tail_three", &CollectionOptions{ProgramType: "sched_cls"}, "sched_cls", TypeFromOption, false},
		// The whole-object type overrides typed sections too, as tc does.
		{"xdp_ttl_prog", &CollectionOptions{ProgramType: "sched_cls"}, "sched_cls", TypeFromOption, false},
		// A type by program name wins over the whole-object type.
		{"xdp_ttl_prog", &CollectionOptions{ProgramType: "sched_cls", ProgramTypes: map[string]string{"xdp_ttl_prog": "xdp"}}, "xdp", TypeFromOption, false},
		{"from_netdev", &CollectionOptions{ProgramTypes: map[string]string{"from_netdev": "tc"}}, "sched_cls", TypeFromOption, false},
		{"cls_main", &CollectionOptions{ProgramTypes: map[string]string{"from_netdev": "tc"}}, "sched_cls", TypeFromSection, false},
	}
	for _, tt := range tests {
		info, source, err := ProgramType(spec.Program(tt.program), tt.opts)
		if tt.noType {
			var nt *NoProgramTypeError
			if !errors.As(err, &nt) || !errors.Is(err, ErrNoProgramType) || nt.Program != tt.program || !strings.Contains(err.Error(), tt.program) {
				t.Errorf("%s %+v: got %v, %v, want a NoProgramTypeError naming it", tt.program, tt.opts, info, err)
			}
			continue
		}
		if err != nil || info.Name != tt.typ || source != tt.source {
			t.Errorf("%s %+v: got %v from %q (%v), want %s from %q", tt.program, tt.opts, info, source, err, tt.typ, tt.source)
		}
	}
}

func TestNewCollectionProgramTypes(t *testing.T) {
	spec, err := LoadCollectionSpec(sectionsObject)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewCollection(spec, &CollectionOptions{Engine: "interp"})
	var nt *NoProgramTypeError
	if !errors.As(err, &nt) || (nt.Program != "from_netdev" && nt.Program != "tail_three") {
		t.Fatalf("no types given: got %v, want a NoProgramTypeError", err)
	}

	coll, err := NewCollection(spec, &CollectionOptions{Engine: "interp", ProgramType: "sched_cls",
		ProgramTypes: map[string]string{"xdp_ttl_prog": "xdp"}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	for name, want := range map[string]string{"cls_main": "sched_cls", "from_netdev": "sched_cls", "tail_three": "sched_cls", "xdp_ttl_prog": "xdp"} {
		if got := coll.Programs[name].Type(); got != want {
			t.Errorf("%s: type %s, want %s", name, got, want)
		}
	}

	for _, tt := range []struct {
		opts *CollectionOptions
		want string
	}{
		{&CollectionOptions{ProgramType: "nonsense"}, `unknown program type "nonsense"`},
		{&CollectionOptions{ProgramTypes: map[string]string{"missing": "xdp"}}, `no program "missing"`},
		{&CollectionOptions{ProgramType: "xdp", ProgramTypes: map[string]string{"cls_main": "bogus"}}, `program "cls_main": unknown program type "bogus"`},
	} {
		if _, err := NewCollection(spec, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want an error containing %q", tt.opts, err, tt.want)
		}
	}
}
