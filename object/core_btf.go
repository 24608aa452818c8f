package object

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// This file computes CO-RE values from BTF, following the rules libbpf
// documents: target types are found by "essential" name (without a ___flavor
// suffix) and kind, fields by name through anonymous members, and bitfields
// are read with the smallest aligned load that covers them.

// targetIndex finds target types by essential name.
type targetIndex struct {
	spec   *btf.Spec
	byName map[string][]btf.Type
}

func newTargetIndex(spec *btf.Spec) (idx *targetIndex, err error) {
	defer func() {
		if p := recover(); p != nil {
			idx, err = nil, fmt.Errorf("object: CO-RE: reading target BTF panicked: %v", p)
		}
	}()
	idx = &targetIndex{spec: spec, byName: make(map[string][]btf.Type)}
	for t, err := range spec.All() {
		if err != nil {
			return nil, fmt.Errorf("object: CO-RE: reading target BTF: %w", err)
		}
		switch t.(type) {
		case *btf.Func, *btf.Var, *btf.Datasec:
			continue
		}
		if name := t.TypeName(); name != "" {
			ess := essentialName(name)
			idx.byName[ess] = append(idx.byName[ess], t)
		}
	}
	return idx, nil
}

// candidates returns the target types with local's essential name and kind.
func (idx *targetIndex) candidates(local btf.Type) []btf.Type {
	name := local.TypeName()
	if name == "" {
		return nil
	}
	var out []btf.Type
	for _, t := range idx.byName[essentialName(name)] {
		if reflect.TypeOf(t) == reflect.TypeOf(local) {
			out = append(out, t)
		}
	}
	return out
}

// essentialName strips a CO-RE flavor suffix: "task_struct___old" names
// the same target type as "task_struct". The suffix starts at the last
// "___" that has a non-underscore on both sides.
func essentialName(name string) string {
	for i := len(name) - 5; i >= 0; i-- {
		if name[i] != '_' && name[i+1:i+4] == "___" && name[i+4] != '_' {
			return name[:i+1]
		}
	}
	return name
}

// skipQualifiers strips typedefs, const, volatile, restrict and type tags.
func skipQualifiers(t btf.Type) btf.Type {
	for range 64 {
		switch u := t.(type) {
		case *btf.Typedef:
			t = u.Type
		case *btf.Const:
			t = u.Type
		case *btf.Volatile:
			t = u.Type
		case *btf.Restrict:
			t = u.Type
		case *btf.TypeTag:
			t = u.Type
		default:
			return t
		}
	}
	return t
}

func members(t btf.Type) ([]btf.Member, bool) {
	switch u := t.(type) {
	case *btf.Struct:
		return u.Members, true
	case *btf.Union:
		return u.Members, true
	}
	return nil, false
}

// fieldStep is one step of a field access: a named member or an array index.
// Anonymous members are not steps: they are matched through.
type fieldStep struct {
	name  string // "" for an array index
	index int    // the array index
}

// fieldSpec is a field access resolved against one set of types.
type fieldSpec struct {
	root   btf.Type
	first  int // the root as an array: p[first]
	steps  []fieldStep
	bitOff uint32 // from the start of p[0]
	// The accessed field: its type, and its bitfield width if it is one.
	// elem is true if the last step is an array index.
	typ     btf.Type
	bitSize uint32
	elem    bool
}

func (s *fieldSpec) path() string {
	var b strings.Builder
	b.WriteString(typeString(s.root))
	if s.first != 0 {
		b.WriteString("[" + strconv.Itoa(s.first) + "]")
	}
	for _, st := range s.steps {
		if st.name != "" {
			b.WriteString("." + st.name)
		} else {
			b.WriteString("[" + strconv.Itoa(st.index) + "]")
		}
	}
	return b.String()
}

func sizeof(t btf.Type) (uint32, error) {
	n, err := btf.Sizeof(t)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 1<<28 {
		return 0, fmt.Errorf("type %s has size %d", typeString(t), n)
	}
	return uint32(n), nil
}

// parseField follows clang's accessor through the object's types.
func parseField(root btf.Type, acc []int) (*fieldSpec, error) {
	if len(acc) == 0 {
		return nil, errors.New("empty accessor")
	}
	if _, ok := members(skipQualifiers(root)); !ok {
		return nil, fmt.Errorf("field access on %s, not a struct or union", typeString(root))
	}
	size, err := sizeof(root)
	if err != nil {
		return nil, err
	}
	s := &fieldSpec{root: root, first: acc[0], typ: root}
	off := uint64(acc[0]) * uint64(size) * 8
	t := root
	for i, idx := range acc[1:] {
		u := skipQualifiers(t)
		if ms, ok := members(u); ok {
			if idx >= len(ms) {
				return nil, fmt.Errorf("step %d: member %d of %s, which has %d", i+1, idx, typeString(u), len(ms))
			}
			m := ms[idx]
			off += uint64(m.Offset)
			if m.Name != "" {
				s.steps = append(s.steps, fieldStep{name: m.Name})
			}
			t, s.typ, s.bitSize, s.elem = m.Type, m.Type, uint32(m.BitfieldSize), false
			continue
		}
		arr, ok := u.(*btf.Array)
		if !ok {
			return nil, fmt.Errorf("step %d: %s is not a struct, union or array", i+1, typeString(u))
		}
		if arr.Nelems != 0 && idx >= int(arr.Nelems) {
			return nil, fmt.Errorf("step %d: index %d of an array of %d", i+1, idx, arr.Nelems)
		}
		esize, err := sizeof(arr.Type)
		if err != nil {
			return nil, err
		}
		off += uint64(idx) * uint64(esize) * 8
		s.steps = append(s.steps, fieldStep{index: idx})
		t, s.typ, s.bitSize, s.elem = arr.Type, arr.Type, 0, true
	}
	if off > 1<<32-1 {
		return nil, fmt.Errorf("field offset of %d bits is too large", off)
	}
	s.bitOff = uint32(off)
	return s, nil
}

// matchField follows the local access through a target root type by member
// names. ok is false if the target lacks a member, has an incompatible one,
// or an array too short.
func matchField(local *fieldSpec, root btf.Type) (s *fieldSpec, ok bool, err error) {
	size, err := sizeof(root)
	if err != nil {
		return nil, false, nil
	}
	s = &fieldSpec{root: root, first: local.first, steps: local.steps, typ: root}
	off := uint64(local.first) * uint64(size) * 8
	t := root
	for _, st := range local.steps {
		u := skipQualifiers(t)
		if st.name != "" {
			m, moff, found := findMember(u, st.name, 0)
			if !found {
				return nil, false, nil
			}
			off += moff
			t, s.typ, s.bitSize, s.elem = m.Type, m.Type, uint32(m.BitfieldSize), false
			continue
		}
		arr, isArr := u.(*btf.Array)
		if !isArr || (arr.Nelems != 0 && st.index >= int(arr.Nelems)) {
			return nil, false, nil
		}
		esize, err := sizeof(arr.Type)
		if err != nil {
			return nil, false, nil
		}
		off += uint64(st.index) * uint64(esize) * 8
		t, s.typ, s.bitSize, s.elem = arr.Type, arr.Type, 0, true
	}
	if !fieldsCompatible(local.typ, s.typ, 0) {
		return nil, false, nil
	}
	if off > 1<<32-1 {
		return nil, false, fmt.Errorf("target field offset of %d bits is too large", off)
	}
	s.bitOff = uint32(off)
	return s, true, nil
}

// findMember finds a member by name in a struct or union, looking inside
// anonymous struct and union members; off is its offset in bits.
func findMember(t btf.Type, name string, depth int) (btf.Member, uint64, bool) {
	ms, ok := members(t)
	if !ok || depth > 32 {
		return btf.Member{}, 0, false
	}
	for _, m := range ms {
		if m.Name == name {
			return m, uint64(m.Offset), true
		}
	}
	for _, m := range ms {
		if m.Name != "" {
			continue
		}
		if inner, off, ok := findMember(skipQualifiers(m.Type), name, depth+1); ok {
			return inner, uint64(m.Offset) + off, true
		}
	}
	return btf.Member{}, 0, false
}

// fieldsCompatible says whether a field of type local can be relocated to one
// of type target: both composite, both integers or enums, both pointers, both
// floats, or arrays of compatible elements.
func fieldsCompatible(local, target btf.Type, depth int) bool {
	if depth > 32 {
		return false
	}
	l, t := skipQualifiers(local), skipQualifiers(target)
	_, lc := members(l)
	_, tc := members(t)
	if lc && tc {
		return true
	}
	switch l := l.(type) {
	case *btf.Int:
		_, ok := t.(*btf.Int)
		return ok
	case *btf.Enum:
		te, ok := t.(*btf.Enum)
		return ok && (l.Name == "" || te.Name == "" || essentialName(l.Name) == essentialName(te.Name))
	case *btf.Pointer:
		_, ok := t.(*btf.Pointer)
		return ok
	case *btf.Float:
		_, ok := t.(*btf.Float)
		return ok
	case *btf.Fwd:
		switch tt := t.(type) {
		case *btf.Fwd:
			return essentialName(l.Name) == essentialName(tt.Name)
		}
		return false
	case *btf.Array:
		ta, ok := t.(*btf.Array)
		return ok && fieldsCompatible(l.Type, ta.Type, depth+1)
	}
	return false
}

// typesCompatible says whether a target type can stand for a local one in
// type-based relocations: the same kind after typedefs and qualifiers,
// recursively through pointers, arrays and function prototypes.
func typesCompatible(local, target btf.Type, depth int) bool {
	if depth > 32 {
		return false
	}
	l, t := skipQualifiers(local), skipQualifiers(target)
	if reflect.TypeOf(l) != reflect.TypeOf(t) {
		return false
	}
	switch l := l.(type) {
	case *btf.Pointer:
		return typesCompatible(l.Target, t.(*btf.Pointer).Target, depth+1)
	case *btf.Array:
		return typesCompatible(l.Type, t.(*btf.Array).Type, depth+1)
	case *btf.FuncProto:
		tp := t.(*btf.FuncProto)
		if len(l.Params) != len(tp.Params) || !typesCompatible(l.Return, tp.Return, depth+1) {
			return false
		}
		for i := range l.Params {
			if !typesCompatible(l.Params[i].Type, tp.Params[i].Type, depth+1) {
				return false
			}
		}
	}
	return true
}

// fieldValue is what a field relocation resolves to for one set of types.
type fieldValue struct {
	value    uint64
	validate bool
	size     uint32 // byte size of a plain (non-bitfield) field, for loads
	unsigned bool   // unsigned integer or pointer: loads may change width
}

// calcField computes a field relocation's value for a resolved access.
func calcField(kind COREKind, s *fieldSpec) (fieldValue, error) {
	if kind == COREFieldExists {
		return fieldValue{value: 1, validate: true}, nil
	}
	if s.elem {
		// The last step is an array element: only its offset and size.
		size, err := sizeof(s.typ)
		if err != nil {
			return fieldValue{}, err
		}
		switch kind {
		case COREFieldByteOffset:
			return fieldValue{value: uint64(s.bitOff / 8), validate: true, size: size, unsigned: resizable(s.typ)}, nil
		case COREFieldByteSize:
			return fieldValue{value: uint64(size), validate: true}, nil
		}
		return fieldValue{}, fmt.Errorf("%s of an array element: %w", kind, ErrNotSupported)
	}

	mt := skipQualifiers(s.typ)
	bitOff, bitSize := s.bitOff, s.bitSize
	var byteOff, byteSize uint32
	bitfield := bitSize > 0
	if bitfield {
		switch u := mt.(type) {
		case *btf.Int:
			byteSize = u.Size
		case *btf.Enum:
			byteSize = u.Size
		default:
			return fieldValue{}, fmt.Errorf("bitfield of type %s", typeString(mt))
		}
		if byteSize == 0 || byteSize > 8 {
			return fieldValue{}, fmt.Errorf("bitfield of %d-byte type", byteSize)
		}
		byteOff = bitOff / 8 / byteSize * byteSize
		for bitOff+bitSize-byteOff*8 > byteSize*8 {
			if byteSize >= 8 {
				return fieldValue{}, errors.New("bitfield cannot be read with a 64-bit load")
			}
			byteSize *= 2
			byteOff = bitOff / 8 / byteSize * byteSize
		}
	} else {
		if bitOff%8 != 0 {
			return fieldValue{}, fmt.Errorf("field at bit offset %d is not byte aligned", bitOff)
		}
		size, err := sizeof(s.typ)
		if err != nil {
			return fieldValue{}, err
		}
		byteSize, byteOff, bitSize = size, bitOff/8, size*8
	}

	// For bitfields clang and libbpf may choose different loads, so only
	// the values that do not depend on that choice are checked.
	v := fieldValue{validate: !bitfield}
	switch kind {
	case COREFieldByteOffset:
		v.value = uint64(byteOff)
		if !bitfield {
			v.size, v.unsigned = byteSize, resizable(s.typ)
		}
	case COREFieldByteSize:
		v.value = uint64(byteSize)
	case COREFieldSigned:
		switch u := mt.(type) {
		case *btf.Int:
			v.value = boolValue(u.Encoding&btf.Signed != 0)
		case *btf.Enum:
			v.value = boolValue(u.Signed)
		}
		v.validate = true
	case COREFieldLShiftU64:
		v.value = uint64(64 - (bitOff + bitSize - byteOff*8))
	case COREFieldRShiftU64:
		v.value = uint64(64 - bitSize)
		v.validate = true
	default:
		return fieldValue{}, fmt.Errorf("field relocation of kind %d: %w", kind, ErrNotSupported)
	}
	return v, nil
}

// resizable reports whether a load or store of a field of this type may be
// widened or narrowed when the target's field has another size.
func resizable(t btf.Type) bool {
	switch u := skipQualifiers(t).(type) {
	case *btf.Pointer:
		return true
	case *btf.Int:
		return u.Encoding&btf.Signed == 0
	}
	return false
}

func boolValue(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func resolveField(kind COREKind, root btf.Type, acc []int, idx *targetIndex) (coreResult, error) {
	local, err := parseField(root, acc)
	if err != nil {
		return coreResult{}, fmt.Errorf("%w: %w", ErrInvalidObject, err)
	}
	lv, err := calcField(kind, local)
	if err != nil {
		return coreResult{}, err
	}
	res := coreResult{local: lv.value, validate: lv.validate, localSize: lv.size}
	cands := idx.candidates(root)
	if len(cands) == 0 {
		if kind == COREFieldExists {
			return res, nil // target 0: the field does not exist
		}
		return coreResult{}, ErrNoTargetType
	}
	found := false
	for _, cand := range cands {
		ts, ok, err := matchField(local, cand)
		if err != nil {
			return coreResult{}, err
		}
		if !ok {
			continue
		}
		tv, err := calcField(kind, ts)
		if err != nil {
			return coreResult{}, err
		}
		if found && (tv.value != res.target || tv.size != res.targetSize) {
			return coreResult{}, fmt.Errorf("%w: %d and %d", ErrAmbiguousTarget, res.target, tv.value)
		}
		found = true
		res.target, res.targetSize = tv.value, tv.size
		res.resizable = lv.unsigned && tv.unsigned ||
			isPointer(local.typ) && isPointer(ts.typ)
	}
	if !found {
		if kind == COREFieldExists {
			return res, nil
		}
		return coreResult{}, fmt.Errorf("%w (%s, %d candidate types)", ErrNoTargetField, typeString(cands[0]), len(cands))
	}
	return res, nil
}

func isPointer(t btf.Type) bool {
	_, ok := skipQualifiers(t).(*btf.Pointer)
	return ok
}

func resolveType(kind COREKind, root btf.Type, localID btf.TypeID, idx *targetIndex) (coreResult, error) {
	res := coreResult{validate: true}
	switch kind {
	case CORETypeExists:
		res.local = 1
	case CORETypeSize:
		size, err := sizeof(root)
		if err != nil {
			return coreResult{}, err
		}
		res.local = uint64(size)
	case CORETypeIDTarget:
		res.local = uint64(localID)
	default:
		return coreResult{}, fmt.Errorf("type relocation of kind %d: %w", kind, ErrNotSupported)
	}

	found := false
	for _, cand := range idx.candidates(root) {
		if !typesCompatible(root, cand, 0) {
			continue
		}
		var v uint64
		switch kind {
		case CORETypeExists:
			v = 1
		case CORETypeSize:
			size, err := sizeof(cand)
			if err != nil {
				return coreResult{}, err
			}
			v = uint64(size)
		case CORETypeIDTarget:
			id, err := idx.spec.TypeID(cand)
			if err != nil {
				return coreResult{}, err
			}
			v = uint64(id)
		}
		if found && v != res.target {
			if kind == CORETypeIDTarget {
				continue // any of several compatible types will do; keep the first
			}
			return coreResult{}, fmt.Errorf("%w: %d and %d", ErrAmbiguousTarget, res.target, v)
		}
		found, res.target = true, v
	}
	if !found {
		if kind == CORETypeExists {
			return res, nil // target 0
		}
		return coreResult{}, ErrNoTargetType
	}
	return res, nil
}

// enumValueName returns the name of the enumerator the accessor picks.
func enumValueName(root btf.Type, acc []int) (string, error) {
	e, ok := skipQualifiers(root).(*btf.Enum)
	if !ok {
		return "", fmt.Errorf("enum relocation on %s", typeString(root))
	}
	if len(acc) != 1 || acc[0] < 0 || acc[0] >= len(e.Values) {
		return "", fmt.Errorf("enumerator index %v of %d", acc, len(e.Values))
	}
	return e.Values[acc[0]].Name, nil
}

func resolveEnum(kind COREKind, root btf.Type, acc []int, idx *targetIndex) (coreResult, error) {
	name, err := enumValueName(root, acc)
	if err != nil {
		return coreResult{}, fmt.Errorf("%w: %w", ErrInvalidObject, err)
	}
	local := skipQualifiers(root).(*btf.Enum)
	res := coreResult{validate: true, local: 1}
	if kind == COREEnumValue {
		res.local = local.Values[acc[0]].Value
	}
	cands := idx.candidates(root)
	found := false
	for _, cand := range cands {
		te, ok := skipQualifiers(cand).(*btf.Enum)
		if !ok {
			continue
		}
		for _, ev := range te.Values {
			if ev.Name != name {
				continue
			}
			v := uint64(1)
			if kind == COREEnumValue {
				v = ev.Value
			}
			if found && v != res.target {
				return coreResult{}, fmt.Errorf("%w: %d and %d", ErrAmbiguousTarget, res.target, v)
			}
			found, res.target = true, v
		}
	}
	switch {
	case found:
		return res, nil
	case kind == COREEnumValueExists:
		return res, nil // target 0
	case len(cands) == 0:
		return coreResult{}, ErrNoTargetType
	}
	return coreResult{}, fmt.Errorf("%w (%d candidate types lack %s)", ErrNoTargetField, len(cands), name)
}
