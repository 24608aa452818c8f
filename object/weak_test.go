package object

import (
	"testing"
)

// TestWeakKconfig loads an object whose __kconfig externs are weak: each
// becomes a variable of the .kconfig map, read through a map value
// reference, like a strong one.
func TestWeakKconfig(t *testing.T) {
	spec := mustLoad(t, "weak.o")
	p := spec.Program("weak_kconfig")
	if p == nil {
		t.Fatal("no program weak_kconfig")
	}
	refs := map[string]bool{}
	for _, r := range p.References {
		checkReference(t, spec, p, r)
		if r.Kind != RefMapValue || r.Name != ".kconfig" || r.Variable == "" {
			t.Errorf("slot %d: reference %+v, want a .kconfig variable", r.Slot, r)
			continue
		}
		refs[r.Variable] = true
	}
	for _, name := range []string{"LINUX_KERNEL_VERSION", "CONFIG_BPFHOST_MISSING", "CONFIG_HZ"} {
		v := spec.Variable(name)
		if v == nil || v.Map != ".kconfig" || !v.ReadOnly {
			t.Errorf("%s: variable %+v, want a read-only .kconfig variable", name, v)
		}
		if !refs[name] {
			t.Errorf("%s: no reference from the program", name)
		}
	}
	m := spec.Map(".kconfig")
	if m == nil {
		t.Fatal("no .kconfig map")
	}
	for i, b := range m.Data {
		if b != 0 {
			t.Fatalf(".kconfig byte %d is %d: missing weak externs read as zero", i, b)
		}
	}
}

// TestWeakMap loads an object whose map is defined __weak (libbpf's
// usdt.bpf.h does so): the map is the object's, referenced like a strong
// one.
func TestWeakMap(t *testing.T) {
	spec := mustLoad(t, "weak.o")
	if m := spec.Map("weak_counts"); m == nil {
		t.Fatal("no map weak_counts")
	}
	p := spec.Program("weak_map")
	if p == nil {
		t.Fatal("no program weak_map")
	}
	found := false
	for _, r := range p.References {
		checkReference(t, spec, p, r)
		if r.Kind == RefMap && r.Name == "weak_counts" {
			found = true
		}
	}
	if !found {
		t.Errorf("references %+v, want one to map weak_counts", p.References)
	}
}
