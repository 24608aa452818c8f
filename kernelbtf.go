package bpfhost

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/cilium/ebpf/btf"

	"github.com/bpfhost/bpfhost/object"
	"github.com/bpfhost/bpfhost/platform"
)

// This file reads the kernel's BTF: the types of the functions and
// tracepoints that BTF-typed programs (fentry, fexit, fmod_ret, tp_btf, lsm,
// iter) attach to, and of the kernel structs their pointer arguments point
// to (docs/decisions/0026-btf-pointers.md).

// defaultKernelBTF is where Linux publishes its own BTF.
const defaultKernelBTF = "/sys/kernel/btf/vmlinux"

// ErrNoKernelBTF is wrapped by the error of loading or verifying a
// BTF-typed program (fentry, fexit, tp_btf, lsm, iter) when the kernel BTF
// that types its arguments cannot be read: name a file with
// CollectionOptions.KernelBTF or VerifyOptions.KernelBTF.
var ErrNoKernelBTF = errors.New("no kernel BTF")

// kernelBTF is a kernel's BTF as the verifier reads it (platform.KernelTypes)
// and as attach points are resolved. It is safe for concurrent use.
type kernelBTF struct {
	mu   sync.Mutex
	spec *btf.Spec
	// types caches converted types by ID.
	types map[uint32]*platform.KernelType
	// target indexes the BTF for CO-RE; built on first use.
	target *object.CORETarget
}

var kernelBTFs struct {
	sync.Mutex
	byPath map[string]*kernelBTF
}

// loadKernelBTF reads the kernel BTF in the file at path (raw BTF, as in
// /sys/kernel/btf/vmlinux, or an ELF file with a .BTF section such as a
// vmlinux image), or the running kernel's when path is empty. The parsed
// BTF is kept for the life of the process: a path is read once, however
// many programs use it. Errors wrap ErrNoKernelBTF.
func loadKernelBTF(path string) (*kernelBTF, error) {
	kernelBTFs.Lock()
	defer kernelBTFs.Unlock()
	if k := kernelBTFs.byPath[path]; k != nil {
		return k, nil
	}
	var spec *btf.Spec
	var err error
	if path == "" {
		if runtime.GOOS != "linux" {
			return nil, fmt.Errorf("%w: %s has no kernel BTF of its own: name a BTF file (CollectionOptions.KernelBTF, --kernel-btf FILE)", ErrNoKernelBTF, runtime.GOOS)
		}
		if _, serr := os.Stat(defaultKernelBTF); serr != nil {
			return nil, fmt.Errorf("%w: %v: the kernel was built without CONFIG_DEBUG_INFO_BTF, or name a BTF file (CollectionOptions.KernelBTF, --kernel-btf FILE)", ErrNoKernelBTF, serr)
		}
		spec, err = btf.LoadKernelSpec()
	} else {
		spec, err = btf.LoadSpec(path)
	}
	if err != nil {
		where := path
		if where == "" {
			where = defaultKernelBTF
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrNoKernelBTF, where, err)
	}
	k := &kernelBTF{spec: spec, types: map[uint32]*platform.KernelType{}}
	if kernelBTFs.byPath == nil {
		kernelBTFs.byPath = map[string]*kernelBTF{}
	}
	kernelBTFs.byPath[path] = k
	return k, nil
}

// KernelType implements platform.KernelTypes.
func (k *kernelBTF) KernelType(id uint32) (*platform.KernelType, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if t, ok := k.types[id]; ok {
		return t, nil
	}
	typ, err := k.spec.TypeByID(btf.TypeID(id))
	if err != nil {
		return nil, fmt.Errorf("kernel BTF: type %d: %w", id, err)
	}
	t, err := k.convert(btf.UnderlyingType(typ))
	if err != nil {
		return nil, fmt.Errorf("kernel BTF: type %d: %w", id, err)
	}
	k.types[id] = t
	return t, nil
}

// StructID implements platform.KernelTypes: the ID of the first struct of
// that name.
func (k *kernelBTF) StructID(name string) (uint32, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	types, err := k.spec.AnyTypesByName(name)
	if err != nil {
		return 0, fmt.Errorf("kernel BTF: struct %s: %w", name, err)
	}
	for _, t := range types {
		if _, ok := t.(*btf.Struct); ok {
			return k.id(t)
		}
	}
	return 0, fmt.Errorf("kernel BTF: no struct %s", name)
}

func (k *kernelBTF) id(t btf.Type) (uint32, error) {
	id, err := k.spec.TypeID(t)
	if err != nil {
		return 0, fmt.Errorf("kernel BTF: %s: %w", t, err)
	}
	return uint32(id), nil
}

// convert describes one type (qualifiers already skipped). k.mu is held.
func (k *kernelBTF) convert(typ btf.Type) (*platform.KernelType, error) {
	t := &platform.KernelType{Name: typ.TypeName()}
	sized := func() error {
		n, err := btf.Sizeof(typ)
		t.Size = n
		return err
	}
	switch v := typ.(type) {
	case *btf.Int, *btf.Enum:
		t.Kind = platform.KernelInt
		return t, sized()
	case *btf.Float:
		t.Kind = platform.KernelFloat
		return t, sized()
	case *btf.Pointer:
		t.Kind, t.Size = platform.KernelPointer, 8
		if target := btf.UnderlyingType(v.Target); !isVoid(target) {
			id, err := k.id(target)
			if err != nil {
				return nil, err
			}
			t.Target = id
		}
		return t, nil
	case *btf.Array:
		t.Kind, t.Len = platform.KernelArray, int(v.Nelems)
		id, err := k.id(v.Type)
		if err != nil {
			return nil, err
		}
		t.Target = id
		return t, sized()
	case *btf.Struct, *btf.Union:
		var members []btf.Member
		if s, ok := v.(*btf.Struct); ok {
			t.Kind, t.Size, members = platform.KernelStruct, int(s.Size), s.Members
		} else {
			u := v.(*btf.Union)
			t.Kind, t.Size, members = platform.KernelUnion, int(u.Size), u.Members
		}
		for _, m := range members {
			id, err := k.id(m.Type)
			if err != nil {
				return nil, err
			}
			t.Members = append(t.Members, platform.KernelMember{Name: m.Name, Type: id, BitOffset: int(m.Offset), BitSize: int(m.BitfieldSize)})
		}
		return t, nil
	}
	t.Kind = platform.KernelOther
	return t, nil
}

// btfAttach is the kind of a BTF-typed attach point.
type btfAttach uint8

// BTF attach kinds.
const (
	// btfAttachFEntry: a kernel function's arguments (fentry).
	btfAttachFEntry btfAttach = iota + 1
	// btfAttachFExit: its arguments and then its return value (fexit).
	btfAttachFExit
	// btfAttachFModRet: like fexit; the return value must be an integer.
	btfAttachFModRet
	// btfAttachTPBTF: a raw tracepoint's arguments, from btf_trace_NAME.
	btfAttachTPBTF
	// btfAttachLSM: an LSM hook's arguments (bpf_lsm_NAME) and its return
	// value.
	btfAttachLSM
	// btfAttachIter: an iterator's context (bpf_iter_NAME): a meta pointer,
	// then pointers that may be NULL.
	btfAttachIter
)

// AttachArgs resolves an attach point as Linux does for the attach kind
// and target name ("do_unlinkat", "sched_switch", "file_open", "task"),
// and describes its argument slots.
func (k *kernelBTF) AttachArgs(kind btfAttach, target string) ([]platform.BTFArg, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var proto *btf.FuncProto
	var what string
	skip := 0
	switch kind {
	case btfAttachFEntry, btfAttachFExit, btfAttachFModRet:
		what = target
	case btfAttachLSM:
		what = "bpf_lsm_" + target
	case btfAttachIter:
		what = "bpf_iter_" + target
	case btfAttachTPBTF:
		what, skip = "btf_trace_"+target, 1
		var td *btf.Typedef
		if err := k.spec.TypeByName(what, &td); err != nil {
			return nil, fmt.Errorf("kernel BTF: tracepoint %s: no typedef %s: %w", target, what, err)
		}
		ptr, ok := btf.UnderlyingType(td.Type).(*btf.Pointer)
		if ok {
			proto, ok = btf.UnderlyingType(ptr.Target).(*btf.FuncProto)
		}
		if !ok || len(proto.Params) == 0 {
			return nil, fmt.Errorf("kernel BTF: %s is not a pointer to a function taking the tracepoint's data", what)
		}
	default:
		return nil, fmt.Errorf("kernel BTF: attach kind %d has no BTF arguments", kind)
	}
	if proto == nil {
		var err error
		if proto, err = k.funcProto(what); err != nil {
			return nil, err
		}
	}
	var args []platform.BTFArg
	for i, p := range proto.Params[skip:] {
		a, err := k.arg(p.Name, p.Type)
		if err != nil {
			return nil, err
		}
		if kind == btfAttachIter && i > 0 {
			a.Pointee.MaybeNull = true
		}
		args = append(args, a)
		// A struct passed by value takes a slot per 8 bytes (Linux's
		// get_ctx_arg_idx), each read as a number.
		switch btf.UnderlyingType(p.Type).(type) {
		case *btf.Struct, *btf.Union:
			n, err := btf.Sizeof(p.Type)
			if err != nil {
				return nil, fmt.Errorf("kernel BTF: %s: argument %s: %w", what, p.Name, err)
			}
			for off := 8; off < n; off += 8 {
				args = append(args, platform.BTFArg{Name: fmt.Sprintf("%s+%d", p.Name, off)})
			}
		}
	}
	switch kind {
	case btfAttachFExit, btfAttachLSM:
		if _, void := btf.UnderlyingType(proto.Return).(*btf.Void); proto.Return == nil || void {
			args = append(args, platform.BTFArg{Name: "ret"})
			break
		}
		a, err := k.arg("ret", proto.Return)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	case btfAttachFModRet:
		a := platform.BTFArg{Name: "ret"}
		if _, ok := btf.UnderlyingType(proto.Return).(*btf.Int); !ok {
			a.Opaque = true // Linux: "ret type %s not allowed for fmod_ret"
		}
		args = append(args, a)
	}
	return args, nil
}

// funcProto returns the prototype of the kernel function name. k.mu must
// be held.
func (k *kernelBTF) funcProto(name string) (*btf.FuncProto, error) {
	fns, err := k.spec.AnyTypesByName(name)
	if err != nil {
		return nil, fmt.Errorf("kernel BTF: no function %s: %w", name, err)
	}
	for _, t := range fns {
		if fn, ok := t.(*btf.Func); ok {
			if proto, ok := fn.Type.(*btf.FuncProto); ok {
				return proto, nil
			}
		}
	}
	return nil, fmt.Errorf("kernel BTF: %s is not a function", name)
}

// arg classifies one argument as btf_ctx_access does: integers, enums and
// structs are numbers, as are pointers to integers or void; pointers to
// structs and unions are BTF pointers; anything else cannot be read.
func (k *kernelBTF) arg(name string, typ btf.Type) (platform.BTFArg, error) {
	a := platform.BTFArg{Name: name}
	switch t := btf.UnderlyingType(typ).(type) {
	case *btf.Int, *btf.Enum, *btf.Struct, *btf.Union:
		return a, nil
	case *btf.Pointer:
		switch target := btf.UnderlyingType(t.Target).(type) {
		case *btf.Void, *btf.Int:
			return a, nil
		case *btf.Struct, *btf.Union:
			id, err := k.id(target)
			if err != nil {
				return a, err
			}
			a.Pointee.Type = id
			return a, nil
		}
	}
	a.Opaque = true
	return a, nil
}

func isVoid(t btf.Type) bool {
	_, ok := t.(*btf.Void)
	return ok
}

// RelocateCORE returns a copy of p with its CO-RE relocations resolved
// against this BTF, as libbpf resolves them against the kernel a program
// loads into: the offsets of the kernel struct members a program reads
// are then this kernel's, as the verifier checks them. p itself is not
// changed; a program without CO-RE relocations is returned as it is.
func (k *kernelBTF) RelocateCORE(p *ProgramSpec) (*ProgramSpec, error) {
	if len(p.CORE) == 0 {
		return p, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.target == nil {
		t, err := object.NewCORETarget(k.spec)
		if err != nil {
			return nil, err
		}
		k.target = t
	}
	return p.RelocatedCORE(k.target)
}
