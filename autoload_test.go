package bpfhost

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

const (
	autoloadObj = "testdata/autoload/autoload.o"
	tailcallObj = "testdata/autoload/tailcall.o"
)

// loadedNames returns the names of c's programs, sorted.
func loadedNames(c *Collection) []string {
	return slices.Sorted(maps.Keys(c.Programs))
}

func xdpFrame() []byte { return make([]byte, 64) }

// TestAutoloadDefault: NewCollection loads the programs of "?" sections
// only when asked. xdp_unsafe fails verification, so the object loads at
// all only if it is left alone.
func TestAutoloadDefault(t *testing.T) {
	spec, err := LoadCollectionSpec(autoloadObj)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCollection(spec, nil)
	if err != nil {
		t.Fatalf("NewCollection: %v", err)
	}
	defer c.Close()
	if got := loadedNames(c); !slices.Equal(got, []string{"xdp_pass"}) {
		t.Fatalf("loaded %v, want only xdp_pass", got)
	}
	if v, _, err := c.Programs["xdp_pass"].Test(xdpFrame()); err != nil || v != 2 {
		t.Errorf("xdp_pass: %d, %v; want XDP_PASS", v, err)
	}
}

// TestAutoloadOn: a program of a "?" section loads when its spec's
// NoAutoload is cleared or when CollectionOptions.Programs names it, with
// the type of the section after the "?".
func TestAutoloadOn(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(*CollectionSpec) *CollectionOptions
		want  []string
	}{
		{"spec", func(s *CollectionSpec) *CollectionOptions {
			s.Program("xdp_drop").NoAutoload = false
			s.Program("tc_shot").NoAutoload = false
			return nil
		}, []string{"tc_shot", "xdp_drop", "xdp_pass"}},
		{"options", func(*CollectionSpec) *CollectionOptions {
			return &CollectionOptions{Programs: []string{"xdp_drop", "tc_shot"}}
		}, []string{"tc_shot", "xdp_drop"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := LoadCollectionSpec(autoloadObj)
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewCollection(spec, tt.setup(spec))
			if err != nil {
				t.Fatalf("NewCollection: %v", err)
			}
			defer c.Close()
			if got := loadedNames(c); !slices.Equal(got, tt.want) {
				t.Fatalf("loaded %v, want %v", got, tt.want)
			}
			if v, _, err := c.Programs["xdp_drop"].Test(xdpFrame()); err != nil || v != 1 {
				t.Errorf("xdp_drop: %d, %v; want XDP_DROP", v, err)
			}
			if typ := c.Programs["tc_shot"].Type(); typ != "sched_cls" {
				t.Errorf("tc_shot is %s, want sched_cls (SEC(\"?tc\"))", typ)
			}
			if v, _, err := c.Programs["tc_shot"].Test(xdpFrame()); err != nil || v != 2 {
				t.Errorf("tc_shot: %d, %v; want TC_ACT_SHOT", v, err)
			}
		})
	}
}

// TestAutoloadUnsafe: a "?" program that is loaded is verified like any
// other, and the error names it.
func TestAutoloadUnsafe(t *testing.T) {
	spec, err := LoadCollectionSpec(autoloadObj)
	if err != nil {
		t.Fatal(err)
	}
	spec.Program("xdp_unsafe").NoAutoload = false
	_, err = NewCollection(spec, nil)
	var ve *VerifierError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "program xdp_unsafe") {
		t.Fatalf("NewCollection: %v; want a verifier error naming xdp_unsafe", err)
	}
	if _, err := VerifyCollection(spec, &CollectionOptions{Programs: []string{"xdp_pass"}}); err != nil {
		t.Errorf("VerifyCollection of xdp_pass alone: %v", err)
	}
}

// TestAutoloadProgramArray: a program array whose static contents name a
// program not loaded fails the collection, naming map, slot and program,
// as libbpf fails the object ("failed to initialize slot"); reaching the
// program through the array does not load it, naming it does.
func TestAutoloadProgramArray(t *testing.T) {
	for _, tt := range []struct {
		name    string
		opts    *CollectionOptions
		clear   bool // clear tail's NoAutoload
		wantErr bool
	}{
		{"default", nil, false, true},
		{"entry", &CollectionOptions{Programs: []string{"entry"}}, false, true},
		{"entry and tail", &CollectionOptions{Programs: []string{"entry", "tail"}}, false, false},
		{"spec", nil, true, false},
		{"spec, entry", &CollectionOptions{Programs: []string{"entry"}}, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := LoadCollectionSpec(tailcallObj)
			if err != nil {
				t.Fatal(err)
			}
			if tt.clear {
				spec.Program("tail").NoAutoload = false
			}
			c, err := NewCollection(spec, tt.opts)
			if tt.wantErr {
				if err == nil {
					c.Close()
					t.Fatal("NewCollection succeeded, want an error for the slot naming tail")
				}
				for _, s := range []string{`map "jmp"`, "slot 0", `program "tail"`, `SEC("?xdp")`} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %s", err, s)
					}
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %v does not wrap ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewCollection: %v", err)
			}
			defer c.Close()
			if v, _, err := c.Programs["entry"].Test(xdpFrame()); err != nil || v != 1 {
				t.Errorf("entry: %d, %v; want XDP_DROP from the tail call", v, err)
			}
		})
	}
}
