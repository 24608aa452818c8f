package verifier

import (
	"fmt"
	"math"

	"github.com/bpfhost/bpfhost/platform"
)

// BTF-typed kernel pointers (kBTF): the pointer arguments of fentry,
// fexit, tp_btf, lsm and iter programs and what bpf_get_current_task_btf
// returns, Linux's PTR_TO_BTF_ID. Reads through one are checked against
// the kernel type it points to, by the rules of Linux's btf_struct_access
// (a walk through nested structs, unions and arrays to the member the
// access falls in), and become probing loads at run time: the value where
// the address lies in memory the run may read, 0 elsewhere, as Linux's
// PROBE_MEM loads read 0 where they fault. Such a pointer may therefore be
// NULL or wild without harm, and needs no NULL check (the verifier keeps
// both branches of a comparison with 0). Its value is never a host address
// bpfhost handed out, only the caller's number or data loaded from memory
// the run may read, so the rules against leaking addresses do not apply to
// it (kind.mayPoint). See docs/decisions/0026-btf-pointers.md.

// maxBTFWalk bounds the steps of one walk (nested members, flexible
// arrays): kernel types nest a few levels deep; a cycle in a broken BTF
// file must not loop.
const maxBTFWalk = 64

// btfAccess checks a load or store through a BTF pointer and returns what
// a load reads.
func (e *exec) btfAccess(s *state, m access) (value, ival, loc) {
	scalar := value{kind: kScalar}
	res := loadResult(m.size, m.sx)
	bv := s.regs[m.base]
	what := e.btfName(uint32(bv.region))
	if m.write || m.atomic {
		e.fail(m.pc, "%s through r%d, a pointer to kernel %s: only reads are allowed", m.verb(), m.base, what)
		return scalar, res, 0
	}
	e.gplOnly(m.pc, "read through r%d, a pointer to kernel %s,", m.base, what)
	lo, hi := s.z.bounds(locReg(m.base))
	if lo != hi || lo == math.MinInt64 || lo > math.MaxInt32 || lo < math.MinInt32 {
		e.fail(m.pc, "read through r%d, a pointer to kernel %s, at a variable offset %s: only constant offsets are allowed",
			m.base, what, ival{lo, hi, 0, math.MaxUint64}.signedString())
		return scalar, res, 0
	}
	off := lo + int64(m.off)
	if off < 0 {
		e.fail(m.pc, "read of %s at offset %d of kernel %s (r%d): negative offsets are not allowed", plural(m.size), off, what, m.base)
		return scalar, res, 0
	}
	ptr, msg := e.btfWalk(uint32(bv.region), int(off), m.size)
	if msg != "" {
		e.fail(m.pc, "read of %s at offset %d of kernel %s (r%d): %s", plural(m.size), off, what, m.base, msg)
		return scalar, res, 0
	}
	if e.a.probe == nil {
		e.a.probe = make([]bool, len(e.a.prog))
	}
	e.a.probe[m.pc] = true
	if ptr != 0 {
		return value{kind: kBTF, region: int32(ptr), origin: int32(m.pc)}, constIval(0), 0
	}
	return scalar, res, 0
}

// btfWalk finds the member a read of size bytes at off in the kernel type
// id falls in, as Linux's btf_struct_walk does: it returns the type a
// pointer member points to (a struct or union), 0 for a number, or why
// the read is not allowed.
func (e *exec) btfWalk(id uint32, off, size int) (ptr uint32, msg string) {
	types := e.a.opts.KernelTypes
	t, err := types.KernelType(id)
	if err != nil {
		return 0, err.Error()
	}
walk:
	for range maxBTFWalk {
		name := kernelTypeName(t)
		if t.Kind != platform.KernelStruct && t.Kind != platform.KernelUnion {
			return 0, fmt.Sprintf("%s is not a struct", name)
		}
		if off+size > t.Size {
			// Only a flexible array at the end may be read past the size.
			n := len(t.Members)
			beyond := fmt.Sprintf("the read ends past the %d bytes of %s", t.Size, name)
			if n == 0 {
				return 0, beyond
			}
			last := t.Members[n-1]
			lt, err := types.KernelType(last.Type)
			if err != nil {
				return 0, err.Error()
			}
			moff := last.BitOffset / 8
			if lt.Kind != platform.KernelArray || lt.Len != 0 || off < moff {
				return 0, beyond
			}
			et, err := types.KernelType(lt.Target)
			if err != nil {
				return 0, err.Error()
			}
			if et.Kind == platform.KernelInt {
				return 0, ""
			}
			if (et.Kind != platform.KernelStruct && et.Kind != platform.KernelUnion) || et.Size <= 0 {
				return 0, beyond
			}
			t, off = et, (off-moff)%et.Size
			continue
		}
		for _, mb := range t.Members {
			moff := mb.BitOffset / 8
			if mb.BitSize != 0 {
				// A read that covers the whole bitfield reads a number; a
				// read of part of it looks on, as Linux does.
				if off <= moff && (mb.BitOffset+mb.BitSize+7)/8 <= off+size {
					return 0, ""
				}
				continue
			}
			if off < moff {
				break
			}
			mt, err := types.KernelType(mb.Type)
			if err != nil {
				return 0, err.Error()
			}
			mend := moff + mt.Size
			if off >= mend {
				continue
			}
			msize := mt.Size
			if mt.Kind == platform.KernelArray {
				// Nested arrays are one row of their innermost elements;
				// a number may be read anywhere inside the whole array.
				for range maxBTFWalk {
					if mt.Kind != platform.KernelArray {
						break
					}
					if mt, err = types.KernelType(mt.Target); err != nil {
						return 0, err.Error()
					}
				}
				if mt.Size <= 0 || mt.Kind == platform.KernelArray {
					return 0, fmt.Sprintf("member %s of %s has no size", mb.Name, name)
				}
				msize = mt.Size
				moff += (off - moff) / msize * msize
			}
			switch mt.Kind {
			case platform.KernelStruct, platform.KernelUnion:
				t, off = mt, off-moff
				continue walk
			case platform.KernelPointer:
				if msize != size || off != moff {
					return 0, fmt.Sprintf("only all 8 bytes of pointer member %s (at offset %d) may be read", mb.Name, moff)
				}
				if mt.Target != 0 {
					pt, err := types.KernelType(mt.Target)
					if err != nil {
						return 0, err.Error()
					}
					if pt.Kind == platform.KernelStruct || pt.Kind == platform.KernelUnion {
						return mt.Target, ""
					}
				}
			}
			if off+size > mend {
				return 0, fmt.Sprintf("the read ends past member %s (offsets %d to %d)", mb.Name, moff, mend)
			}
			return 0, ""
		}
		return 0, fmt.Sprintf("%s has no member at offset %d", name, off)
	}
	return 0, "the kernel type nests too deeply"
}

// btfName names the kernel type id for messages ("struct task_struct").
func (e *exec) btfName(id uint32) string {
	if e.a.opts.KernelTypes == nil {
		return fmt.Sprintf("type %d", id)
	}
	t, err := e.a.opts.KernelTypes.KernelType(id)
	if err != nil {
		return fmt.Sprintf("type %d", id)
	}
	return kernelTypeName(t)
}

func kernelTypeName(t *platform.KernelType) string {
	name := t.Name
	if name == "" {
		name = "(anon)"
	}
	switch t.Kind {
	case platform.KernelStruct:
		return "struct " + name
	case platform.KernelUnion:
		return "union " + name
	}
	return name
}

// btfReturn is what a helper returning a kernel object returns when the
// kernel's types are known (bpf_get_current_task_btf: a task_struct).
func (e *exec) btfReturn(pc int, proto *platform.HelperProto) (value, bool) {
	if proto.RetKernelStruct == "" || e.a.opts.KernelTypes == nil || (proto.Ret != platform.RetBTFID && proto.Ret != platform.RetBTFIDOrNull) {
		return value{}, false
	}
	id, err := e.a.opts.KernelTypes.StructID(proto.RetKernelStruct)
	if err != nil {
		e.fail(pc, "%s returns a %s: %v", proto.Name, proto.RetKernelStruct, err)
		return value{}, false
	}
	return value{kind: kBTF, region: int32(id), null: proto.Ret == platform.RetBTFIDOrNull, origin: int32(pc)}, true
}

// probeFacts lists the loads through BTF pointers (Result.ProbeLoads).
func (a *analyzer) probeFacts(res *Result) {
	for pc, p := range a.probe {
		if p {
			res.ProbeLoads = append(res.ProbeLoads, pc)
		}
	}
}
