package helpers

import (
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

func init() { register(linux.FnTailCall, tailCall) }

// tailCall is bpf_tail_call(ctx, prog_array, index). On success it sets
// rc.TailCall, which makes the engine end the current program and vm.Run
// start the target with r1 = ctx; called in a subprogram, the target runs
// in the subprogram's place and returns to its caller
// (vm.RunContext.TailCallInPlace). The limit counts every tail call of the
// run, those of nested targets too. On failure (index out of range, the
// 33-call limit reached, an empty slot) the program continues after the
// call, as in Linux; r0 is then a negative errno, although verified
// programs cannot read it. As in Linux, the limit is counted before the
// slot is looked at, so calls to empty slots count too.
func tailCall(h *impl) vm.Helper {
	const name = "bpf_tail_call"
	return func(rc *vm.RunContext, ctx, mp, index, _, _ uint64) (uint64, error) {
		m, err := h.mapOf(rc, mp, name)
		if m == nil {
			return ret(eINVAL), err
		}
		pa, ok := m.(*maps.HandleArrayMap)
		spec := m.Spec()
		if !ok || spec.Type != maps.ProgramArray {
			return wrongMap(rc, name, m, eINVAL)
		}
		idx := uint32(index)
		if idx >= spec.MaxEntries {
			return ret(eNOENT), nil
		}
		if rc.TailCalls >= vm.MaxTailCalls {
			return ret(e2BIG), nil
		}
		rc.TailCalls++
		handle := pa.HandleAt(idx)
		if handle == nil {
			return ret(eNOENT), nil
		}
		exe, ok := h.host.TailTarget(handle)
		if !ok || exe == nil {
			return ret(eNOENT), nil
		}
		rc.TailCall = exe
		rc.Args[0] = ctx
		return 0, nil
	}
}
