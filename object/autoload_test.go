package object

import "testing"

func TestSplitAutoload(t *testing.T) {
	for _, tt := range []struct {
		in, section string
		autoload    bool
	}{
		{"xdp", "xdp", true},
		{"?xdp", "xdp", false},
		{"?tc", "tc", false},
		{"?kprobe/sys_getpgid", "kprobe/sys_getpgid", false},
		{"?fentry.s/do_nanosleep", "fentry.s/do_nanosleep", false},
		{"??xdp", "?xdp", false}, // only the first '?' is libbpf's
		{"?", "", false},
		{"", "", true},
		{"xdp?", "xdp?", true},
		{"tc/?x", "tc/?x", true},
	} {
		section, autoload := splitAutoload(tt.in)
		if section != tt.section || autoload != tt.autoload {
			t.Errorf("splitAutoload(%q) = %q, %v; want %q, %v", tt.in, section, autoload, tt.section, tt.autoload)
		}
	}
}

// TestLoadAutoload reads an object with "?" sections: the prefix is gone
// from the section names and has become NoAutoload.
func TestLoadAutoload(t *testing.T) {
	spec, err := Load("../testdata/autoload/autoload.o")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		section    string
		noAutoload bool
	}{
		"xdp_pass":   {"xdp", false},
		"xdp_drop":   {"xdp", true},
		"tc_shot":    {"tc", true},
		"xdp_unsafe": {"xdp", true},
	}
	if len(spec.Programs) != len(want) {
		t.Fatalf("%d programs, want %d", len(spec.Programs), len(want))
	}
	for _, p := range spec.Programs {
		w, ok := want[p.Name]
		if !ok {
			t.Errorf("unexpected program %q", p.Name)
			continue
		}
		if p.Section != w.section || p.NoAutoload != w.noAutoload {
			t.Errorf("%s: section %q, NoAutoload %v; want %q, %v", p.Name, p.Section, p.NoAutoload, w.section, w.noAutoload)
		}
		if cpy := p.Copy(); cpy.NoAutoload != p.NoAutoload {
			t.Errorf("%s: Copy lost NoAutoload", p.Name)
		}
	}
}
