package bpfhost

import "github.com/bpfhost/bpfhost/object"

// Reference is a relocation of a ProgramSpec: an instruction that names a
// map, a map's value, a kernel function or a kernel symbol, which loading
// resolves (ProgramSpec.References).
type Reference = object.Reference

// RefKind says what a Reference names.
type RefKind = object.RefKind

// Kinds of Reference.
const (
	// RefMap is an lddw of a map pointer.
	RefMap = object.RefMap
	// RefMapValue is an lddw of the address of a map's value at an offset;
	// global data accesses are of this kind.
	RefMapValue = object.RefMapValue
	// RefKfunc is a call of a kernel function by name.
	RefKfunc = object.RefKfunc
	// RefKsym is an lddw of the address of a kernel symbol.
	RefKsym = object.RefKsym
)
