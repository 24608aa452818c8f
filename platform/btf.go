package platform

import "fmt"

// BTF-typed kernel pointers. Programs that attach to kernel functions
// (fentry, fexit, fmod_ret, tp_btf, lsm, iter) receive arguments typed by
// the kernel's BTF and read through them directly; the verifier follows the
// types to decide what each load reads (docs/decisions/0026-btf-pointers.md).
// This file is the vocabulary the loader and the verifier share: a compact
// view of kernel types, without the BTF encoding.

// KernelTypeKind is what a kernel type is, after typedefs and qualifiers.
type KernelTypeKind uint8

// Kernel type kinds.
const (
	// KernelOther is a type a load cannot read as data: void, functions.
	KernelOther KernelTypeKind = iota
	// KernelInt is an integer, bool, char or enum of Size bytes.
	KernelInt
	// KernelPointer points to Target (0: void).
	KernelPointer
	// KernelStruct is a struct of Size bytes with Members.
	KernelStruct
	// KernelUnion is a union of Size bytes with Members.
	KernelUnion
	// KernelArray is Len elements of type Target; Size is the total.
	KernelArray
	// KernelFloat is a floating-point number of Size bytes.
	KernelFloat
)

var kernelTypeKindNames = [...]string{"other", "int", "pointer", "struct", "union", "array", "float"}

// String returns the kind's name.
func (k KernelTypeKind) String() string {
	if int(k) < len(kernelTypeKindNames) {
		return kernelTypeKindNames[k]
	}
	return fmt.Sprintf("kernel_type_kind(%d)", uint8(k))
}

// KernelType is one kernel type, typedefs, const, volatile, restrict and
// type tags skipped. Type IDs are the kernel BTF's: IDs in Target and in
// members may name typedefs; KernelTypes.KernelType resolves them.
type KernelType struct {
	Kind KernelTypeKind
	// Name is the type's name ("task_struct"), empty when anonymous.
	Name string
	// Size is the type's size in bytes (8 for pointers).
	Size int
	// Target is what a pointer points to or an array's element type.
	Target uint32
	// Len is an array's element count (0 for a flexible array member).
	Len int
	// Members are a struct's or union's members, in order.
	Members []KernelMember
}

// KernelMember is a member of a struct or union.
type KernelMember struct {
	Name string
	Type uint32
	// BitOffset is the member's offset in bits; BitSize is non-zero for a
	// bitfield.
	BitOffset, BitSize int
}

// KernelTypes gives the verifier the kernel types a program's BTF-typed
// pointers point to. Implementations are safe for concurrent use.
type KernelTypes interface {
	// KernelType returns the type with the given ID, resolving typedefs
	// and qualifiers.
	KernelType(id uint32) (*KernelType, error)
	// StructID returns the ID of the struct with the given name.
	StructID(name string) (uint32, error)
}

// BTFPointee describes what a FieldBTFPointer context field points to.
type BTFPointee struct {
	// Type is the pointee's kernel type ID (a struct or union).
	Type uint32
	// MaybeNull says the pointer may be NULL and must be compared with 0
	// before use (iterator arguments); other BTF pointers may also be
	// NULL or wild, but loads through them read 0 then (as Linux's
	// PROBE_MEM loads do), so no check is required.
	MaybeNull bool
}

// BTFArg is one argument slot of a BTF-typed attach point: a u64 of the
// context, which is a number or a pointer to a kernel struct.
type BTFArg struct {
	// Name is the parameter's name, "ret" for the return value.
	Name string
	// Pointee is the struct a pointer argument points to; its Type is 0
	// for numbers (integers, enums, pointers to integers or void).
	Pointee BTFPointee
	// Opaque says Linux refuses loads of the slot: a pointer to neither a
	// struct, an integer nor void, or fmod_ret's return value of a
	// function that does not return an integer.
	Opaque bool
}

// BTFArgsContext returns the context descriptor of a BTF-typed program
// whose attach point has the given arguments: args[i] at offset 8*i, a
// pointer field read whole for pointers to structs, a number read at any
// width from its start otherwise, as Linux's btf_ctx_access allows.
func BTFArgsContext(attach string, args []BTFArg) *ContextDescriptor {
	d := &ContextDescriptor{Name: "btf_func_args", Size: 8 * max(len(args), 1), ArgSlots: true,
		Doc: "u64 args[] of " + attach + ", typed by the kernel's BTF"}
	for i, a := range args {
		if a.Opaque {
			continue
		}
		f := ContextField{Name: fmt.Sprintf("args[%d] %s", i, a.Name), Offset: 8 * i, Size: 8, Access: Read, ReadSizes: AnySize}
		if a.Pointee.Type != 0 {
			f.Kind, f.BTF, f.ReadSizes = FieldBTFPointer, a.Pointee, Size8
		}
		d.Fields = append(d.Fields, f)
	}
	return d
}
