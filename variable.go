package bpfhost

import (
	"fmt"

	"github.com/bpfhost/bpfhost/maps"
)

// Variable is a global variable of a loaded Collection (Collection.Variables),
// in the data section map that holds it, as cilium/ebpf's Variable: Get reads
// its current value and Set changes it while programs run, without touching
// the bytes of other variables. Variables of .rodata are constants the
// verifier relied on: Set refuses them (change them in the CollectionSpec
// with SetConstant before loading instead).
type Variable struct {
	name     string
	m        *Map
	offset   uint32
	size     uint32
	readOnly bool
	typ      string
}

// newVariables makes the Variables of a collection from the spec's global
// variables whose data section map it has.
func newVariables(spec *CollectionSpec, byName map[string]*Map) map[string]*Variable {
	vars := map[string]*Variable{}
	for _, vs := range spec.Variables {
		m, ok := byName[vs.Map]
		if !ok {
			continue
		}
		vars[vs.Name] = &Variable{name: vs.Name, m: m, offset: vs.Offset, size: vs.Size,
			readOnly: vs.ReadOnly || isFrozenData(spec.Map(vs.Map)), typ: vs.Type}
	}
	return vars
}

// Name returns the variable's name.
func (v *Variable) Name() string { return v.name }

// Size returns the variable's size in bytes.
func (v *Variable) Size() uint64 { return uint64(v.size) }

// ReadOnly reports whether the variable is constant (in .rodata): Set fails.
func (v *Variable) ReadOnly() bool { return v.readOnly }

// Type returns the variable's C type as BTF names it, or "" without BTF.
func (v *Variable) Type() string { return v.typ }

// Map returns the data section map that holds the variable.
func (v *Variable) Map() *Map { return v.m }

// Offset returns the variable's offset in its data section.
func (v *Variable) Offset() uint32 { return v.offset }

// array returns the array behind the variable's map.
func (v *Variable) array(op string) (*maps.ArrayMap, error) {
	if err := v.m.closedErr(op); err != nil {
		return nil, err
	}
	a, ok := v.m.m.(*maps.ArrayMap)
	if !ok {
		return nil, fmt.Errorf("variable %q: %s: %w: map %q is a %s", v.name, op, ErrNotSupported, v.m.name, v.m.Type())
	}
	return a, nil
}

// Get copies the variable's current value into out (anything Map.Lookup
// decodes into: a pointer to a fixed-size value, []byte, ...).
func (v *Variable) Get(out any) error {
	a, err := v.array("get")
	if err != nil {
		return err
	}
	b := make([]byte, v.size)
	if err := a.ReadAt(0, int(v.offset), b); err != nil {
		return fmt.Errorf("variable %q: %w", v.name, err)
	}
	if err := unmarshal(b, out); err != nil {
		return fmt.Errorf("variable %q: get: %w", v.name, errWrap(err, "value"))
	}
	return nil
}

// Set writes in (anything Map.Update encodes, of the variable's size) to
// the variable. Constants fail with an error wrapping ErrPermission.
func (v *Variable) Set(in any) error {
	if v.readOnly {
		return fmt.Errorf("variable %q: set: %w: a constant (.rodata); use CollectionSpec.SetConstant before loading", v.name, ErrPermission)
	}
	a, err := v.array("set")
	if err != nil {
		return err
	}
	b, err := marshal(in, int(v.size))
	if err != nil {
		return fmt.Errorf("variable %q: set: %w", v.name, errWrap(err, "value"))
	}
	if err := a.WriteAt(0, int(v.offset), b); err != nil {
		return fmt.Errorf("variable %q: %w", v.name, err)
	}
	return nil
}
