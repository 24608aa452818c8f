package verifier

import (
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// Tail calls made in subprograms (docs/decisions/0024-tail-calls-in-subprograms.md).
// Linux (the x86-64 JIT, since 5.10) runs the target in place of the
// subprogram that makes the call: when the target exits, its r0 is the
// subprogram's result and the caller goes on. So a tail call in a
// subprogram has two ways on: it fails and the subprogram goes on after
// the call (the helper's ordinary result), or it is taken and the
// subprogram returns at once with a number the target computed.

// maxTailCallerStack is Linux's limit on the frames of a tail-calling
// subprogram's callers: their stack, each frame rounded as checkStack
// rounds it, must stay below it (kernel/bpf/verifier.c,
// check_max_stack_depth_subprog: "tail_calls are not allowed when call
// stack of previous frames is %d bytes. Too large"). The callers' frames
// stay on the stack while up to 33 tail calls run, each of which may
// again leave frames of its own below them.
const maxTailCallerStack = 256

// tailCallReturn records the taken tail call of a subprogram as an exit of
// it, from the state s at the call: the caller receives r0 as any number
// the target returned. The target may have changed the packet as any of
// its helpers can, so packet pointers are invalid in every frame, as Linux
// has them after a call of a subprogram that tail-calls. What else the
// caller holds (its frames, r6-r9, the references and the lock, which a
// tail call may not hold: endsProgram) the target cannot reach. In the
// main function the taken tail call ends the program, and callbacks may
// not tail-call at all; there is nothing to record.
func (e *exec) tailCallReturn(s *state, pc int) {
	if e.r.kind != callLocal {
		return
	}
	x := s.clone()
	x.invalidate(func(v value) bool { return v.kind == kPacket || v.kind == kPacketEnd || v.kind == kPktLow32 }, invPacketChanged, pc)
	x.z.setBounds(locPkt, 0, int64(x.a.opts.Type.PacketSizeLimit()))
	x.z.setBounds(locMeta, -255, 0)
	e.clobberCall(x)
	x.set(0, value{kind: kScalar}, topIval)
	e.addExit(x)
}

// hasTailCall reports whether the function at start contains a call of
// bpf_tail_call, reachable or not, as Linux's has_tail_call does.
func (a *analyzer) hasTailCall(start int) bool {
	for pc := start; pc < a.ends[start] && pc < len(a.prog); pc++ {
		in := a.prog[pc]
		if in.Opcode == isa.OpCall && in.Src == isa.CallHelper {
			if h, ok := a.opts.ABI.HelperByID(platform.HelperID(in.Imm)); ok && h.Name == "bpf_tail_call" {
				return true
			}
		}
	}
	return false
}

// checkTailCallers applies maxTailCallerStack to the function fn reached
// along a call chain whose frames before it take callers bytes.
func (a *analyzer) checkTailCallers(fn, callers int) {
	if fn != 0 && callers >= maxTailCallerStack && a.hasTailCall(fn) {
		a.report(fn, "bpf_tail_call in a subprogram whose callers' frames take %d bytes: Linux allows a subprogram to tail-call only below %d bytes of callers' stack", callers, maxTailCallerStack)
	}
}
