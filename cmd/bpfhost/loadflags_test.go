package main

import "testing"

// TestLoadFlagsShared checks that run and attach xdp define --engine,
// --unverified, --checked and --max-entries the same way, from one place.
func TestLoadFlagsShared(t *testing.T) {
	root := newRoot()
	run, _, err := root.Find([]string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	attach, _, err := root.Find([]string{"attach", "xdp"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"engine", "unverified", "checked", "max-entries"} {
		a, b := run.Flags().Lookup(name), attach.Flags().Lookup(name)
		if a == nil || b == nil {
			t.Fatalf("--%s: run has %v, attach xdp has %v", name, a != nil, b != nil)
		}
		if a.Usage != b.Usage || a.DefValue != b.DefValue || a.Value.Type() != b.Value.Type() {
			t.Errorf("--%s differs: run %q (%s, default %q), attach %q (%s, default %q)", name,
				a.Usage, a.Value.Type(), a.DefValue, b.Usage, b.Value.Type(), b.DefValue)
		}
	}
	var f runFlags
	f.engine, f.unverified, f.checked = "interp", true, true
	o := f.collectionOptions()
	if o.Engine != "interp" || !o.Unverified || !o.Checked {
		t.Errorf("collectionOptions = %+v", o)
	}
}
