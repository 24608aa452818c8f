package object

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

var (
	// ErrNotConstant is returned by SetConstant for a variable outside the
	// read-only data sections.
	ErrNotConstant = errors.New("not a constant")
	// ErrSizeMismatch is returned when a value does not have the size of
	// the variable it is meant for.
	ErrSizeMismatch = errors.New("size mismatch")
)

// convertVariables converts cilium/ebpf's variables and copies their values
// into the data section maps, so that VariableSpec.Set calls made before
// FromCollectionSpec take effect.
func convertVariables(in map[string]*ebpf.VariableSpec, spec *Spec) ([]*VariableSpec, error) {
	out := make([]*VariableSpec, 0, len(in))
	for name, vs := range in {
		if vs == nil {
			return nil, fmt.Errorf("variable %q: %w: nil VariableSpec", name, ErrInvalidObject)
		}
		m := spec.Map(vs.SectionName)
		if m == nil || m.Data == nil {
			return nil, fmt.Errorf("variable %q: %w: no data section map %q", name, ErrInvalidObject, vs.SectionName)
		}
		v := &VariableSpec{
			Name:     name,
			Map:      vs.SectionName,
			Offset:   vs.Offset,
			Size:     vs.Size(),
			ReadOnly: strings.HasPrefix(vs.SectionName, ".rodata") || vs.SectionName == ".kconfig",
		}
		if vs.Type != nil {
			v.Type = typeString(vs.Type.Type)
		}
		if uint64(v.Offset)+uint64(v.Size) > uint64(len(m.Data)) {
			return nil, fmt.Errorf("variable %q: %w: %d bytes at offset %d exceed section %s of %d bytes", name, ErrInvalidObject, v.Size, v.Offset, m.Name, len(m.Data))
		}
		if vs.Value != nil {
			if len(vs.Value) != int(v.Size) {
				return nil, fmt.Errorf("variable %q: %w: value has %d bytes, variable %d", name, ErrInvalidObject, len(vs.Value), v.Size)
			}
			copy(m.Data[v.Offset:], vs.Value)
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *VariableSpec) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// SetConstant sets the initial value of a const volatile global, as programs
// will read it from their read-only data section. value is either the raw
// bytes or a fixed-size value (uint32, int64, a struct of such, an array)
// encoded little-endian; its size must be the variable's.
func (s *Spec) SetConstant(name string, value any) error {
	v := s.Variable(name)
	if v == nil {
		return fmt.Errorf("object: constant %q: %w", name, ErrNotFound)
	}
	if !v.ReadOnly {
		return fmt.Errorf("object: constant %q: in %s: %w (use SetVariable)", name, v.Map, ErrNotConstant)
	}
	return s.setVariable(v, value)
}

// SetVariable sets the initial value of any global variable (in .data,
// .bss, .rodata, ...), like SetConstant does.
func (s *Spec) SetVariable(name string, value any) error {
	v := s.Variable(name)
	if v == nil {
		return fmt.Errorf("object: variable %q: %w", name, ErrNotFound)
	}
	return s.setVariable(v, value)
}

func (s *Spec) setVariable(v *VariableSpec, value any) error {
	b, err := encodeValue(value)
	if err != nil {
		return fmt.Errorf("object: variable %q: %w", v.Name, err)
	}
	if len(b) != int(v.Size) {
		return fmt.Errorf("object: variable %q (%s) is %d bytes, value is %d bytes: %w", v.Name, v.Type, v.Size, len(b), ErrSizeMismatch)
	}
	m := s.Map(v.Map)
	if m == nil || uint64(v.Offset)+uint64(v.Size) > uint64(len(m.Data)) {
		return fmt.Errorf("object: variable %q: data section %q is missing or too small", v.Name, v.Map)
	}
	copy(m.Data[v.Offset:], b)
	return nil
}

// VariableValue returns a copy of the variable's current initial bytes in spec.
func (s *Spec) VariableValue(name string) ([]byte, error) {
	v := s.Variable(name)
	if v == nil {
		return nil, fmt.Errorf("object: variable %q: %w", name, ErrNotFound)
	}
	m := s.Map(v.Map)
	if m == nil || uint64(v.Offset)+uint64(v.Size) > uint64(len(m.Data)) {
		return nil, fmt.Errorf("object: variable %q: data section %q is missing or too small", v.Name, v.Map)
	}
	return slices.Clone(m.Data[v.Offset : v.Offset+v.Size]), nil
}

func encodeValue(value any) ([]byte, error) {
	switch v := value.(type) {
	case nil:
		return nil, errors.New("nil value")
	case []byte:
		return v, nil
	case bool:
		if v {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	}
	if binary.Size(value) < 0 {
		return nil, fmt.Errorf("value of type %T has no fixed size (use a sized type such as uint32)", value)
	}
	b, err := binary.Append(nil, binary.LittleEndian, value)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", value, err)
	}
	return b, nil
}

// addKconfig adds the map and variables of the virtual .kconfig section,
// which only BTF describes: cilium/ebpf creates that map at load time, the
// runtime fills in the values (LINUX_KERNEL_VERSION, CONFIG_*).
func addKconfig(spec *Spec, types *btf.Spec) error {
	if types == nil || spec.Map(".kconfig") != nil {
		return nil
	}
	var ds *btf.Datasec
	if err := types.TypeByName(".kconfig", &ds); err != nil {
		return nil // no extern __kconfig variables
	}
	if ds.Size == 0 || ds.Size > 1<<20 {
		return fmt.Errorf("%w: .kconfig section of %d bytes", ErrInvalidObject, ds.Size)
	}
	m := &MapSpec{
		Name: ".kconfig", Type: MapTypeArray, KeySize: 4, ValueSize: ds.Size, MaxEntries: 1,
		Flags: FlagReadOnlyProg, Data: make([]byte, ds.Size),
	}
	i, _ := slices.BinarySearchFunc(spec.Maps, m.Name, func(a *MapSpec, name string) int { return cmp.Compare(a.Name, name) })
	spec.Maps = slices.Insert(spec.Maps, i, m)
	for _, vsi := range ds.Vars {
		v, ok := vsi.Type.(*btf.Var)
		if !ok {
			return fmt.Errorf("%w: .kconfig entry of type %T", ErrInvalidObject, vsi.Type)
		}
		if uint64(vsi.Offset)+uint64(vsi.Size) > uint64(ds.Size) {
			return fmt.Errorf("%w: .kconfig variable %q exceeds the section", ErrInvalidObject, v.Name)
		}
		if spec.Variable(v.Name) != nil {
			return fmt.Errorf("%w: .kconfig variable %q declared twice", ErrInvalidObject, v.Name)
		}
		spec.Variables = append(spec.Variables, &VariableSpec{
			Name: v.Name, Map: ".kconfig", Offset: vsi.Offset, Size: vsi.Size, ReadOnly: true, Type: typeString(v.Type),
			Kconfig: kconfigKind(v.Type),
		})
	}
	slices.SortFunc(spec.Variables, func(a, b *VariableSpec) int { return cmp.Compare(a.Name, b.Name) })
	return nil
}

// kconfigKind is how libbpf encodes a __kconfig variable of type t.
func kconfigKind(t btf.Type) KconfigKind {
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Int:
		switch {
		case u.Encoding&btf.Bool != 0:
			return KconfigBool
		case u.Encoding&btf.Char != 0 || u.Size == 1 && u.Name == "char":
			return KconfigChar
		case u.Encoding&btf.Signed != 0:
			return KconfigSignedInt
		}
		return KconfigInt
	case *btf.Enum:
		if u.Name == "libbpf_tristate" {
			return KconfigTristate
		}
	case *btf.Array:
		if e, ok := btf.UnderlyingType(u.Type).(*btf.Int); ok && e.Size == 1 {
			return KconfigString
		}
	}
	return KconfigNone
}
