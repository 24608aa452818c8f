package verifier

import (
	"math"

	"github.com/bpfhost/bpfhost/platform"
)

// btfArg checks an argument that must point to the kernel struct want
// (HelperProto.ArgKernelStruct; Linux's ARG_PTR_TO_BTF_ID: bpf_seq_printf's
// seq_file, bpf_get_task_stack's task_struct): a BTF pointer, not NULL,
// at a constant offset where a want begins, the struct itself or one
// nested in it at that offset (Linux's btf_struct_ids_match). Helpers that
// take one work on kernel objects; bpfhost's verifier checks them for
// Linux's verdict and NewCollection refuses them (HelperProto.KernelOnly).
func (e *exec) btfArg(s *state, pc, r int, want string, proto *platform.HelperProto) {
	v := s.regs[r]
	switch {
	case want == "" || e.a.opts.KernelTypes == nil:
		e.fail(pc, "%s takes a %s argument in r%d, which bpfhost does not support", proto.Name, platform.ArgBTFID, r)
		return
	case v.kind != kBTF:
		e.fail(pc, "%s needs a pointer to kernel struct %s in r%d; %s", proto.Name, want, r, e.describe(s, r))
		return
	case v.null:
		e.fail(pc, "r%d may be NULL: check it before %s", r, proto.Name)
		return
	}
	lo, hi := s.z.bounds(locReg(r))
	if lo != hi || lo < 0 || lo > math.MaxInt32 {
		e.fail(pc, "%s needs a pointer to kernel struct %s in r%d, not one at a variable or negative offset %s into %s",
			proto.Name, want, r, ival{lo, hi, 0, math.MaxUint64}.signedString(), e.btfName(uint32(v.region)))
		return
	}
	if !e.btfHolds(uint32(v.region), int(lo), want) {
		e.fail(pc, "%s needs a pointer to kernel struct %s in r%d; r%d points to %s at offset %d",
			proto.Name, want, r, r, e.btfName(uint32(v.region)), lo)
	}
}

// btfHolds reports whether a struct named want begins at offset off of
// the kernel type id: id itself at offset 0, or a struct member (nested
// to any depth) that begins there.
func (e *exec) btfHolds(id uint32, off int, want string) bool {
	types := e.a.opts.KernelTypes
	for range maxBTFWalk {
		t, err := types.KernelType(id)
		if err != nil || t.Kind != platform.KernelStruct && t.Kind != platform.KernelUnion {
			return false
		}
		if off == 0 && t.Kind == platform.KernelStruct && t.Name == want {
			return true
		}
		next, found := uint32(0), false
		for _, m := range t.Members {
			if m.BitSize != 0 || m.BitOffset%8 != 0 {
				continue
			}
			mo := m.BitOffset / 8
			mt, err := types.KernelType(m.Type)
			if err != nil || mo > off || off >= mo+mt.Size {
				continue
			}
			if mt.Kind == platform.KernelStruct || mt.Kind == platform.KernelUnion {
				next, off, found = m.Type, off-mo, true
				break
			}
		}
		if !found {
			return false
		}
		id = next
	}
	return false
}
