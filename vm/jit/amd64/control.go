package amd64

import (
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// conditions maps BPF jump operations to x86 condition codes, for the flags
// of cmp dst, src (or test dst, src for jset).
var conditions = map[isa.JumpOp]byte{
	isa.JumpEq:  ccE,
	isa.JumpNE:  ccNE,
	isa.JumpSet: ccNE,
	isa.JumpGT:  ccA,
	isa.JumpGE:  ccAE,
	isa.JumpLT:  ccB,
	isa.JumpLE:  ccBE,
	isa.JumpSGT: ccG,
	isa.JumpSGE: ccGE,
	isa.JumpSLT: ccL,
	isa.JumpSLE: ccLE,
}

// jump emits ja, gotol and the conditional jumps. A taken jump charges the
// block and tests the budget; the fall-through path only charges it (the
// next slot starts a block).
func (c *compiler) jump(pc int, ins isa.Instruction) {
	a := &c.a
	t, _ := ins.BranchTarget(pc)
	target := c.pcLabel[t]
	n := int(c.pending(pc))
	budget := exitInfo{kind: exitBudget, pc: int32(pc)}
	if ins.IsJumpA() {
		c.charge(n)
		a.jcc(ccNS, target)
		c.exit(budget, target)
		return
	}
	w := ins.Opcode.Class() == isa.ClassJMP
	op := ins.Opcode.JumpOp()
	d := bpfReg[ins.Dst]
	switch {
	case ins.Opcode.Source() == isa.SourceX && op == isa.JumpSet:
		a.aluRR(opTest, w, d, bpfReg[ins.Src])
	case ins.Opcode.Source() == isa.SourceX:
		a.aluRR(opCmp, w, d, bpfReg[ins.Src])
	case op == isa.JumpSet:
		a.testRI(w, d, ins.Imm)
	case ins.Imm == 0: // same flags as cmp d, 0, one byte shorter
		a.aluRR(opTest, w, d, d)
	default:
		a.aluRI(extCmp, w, d, ins.Imm)
	}
	cc := conditions[op]
	if t <= pc {
		// Backward: the taken path is the hot one (a loop), keep it inline.
		fall := a.newLabel()
		a.jcc(cc^1, fall) // x86 condition codes come in negated pairs
		c.charge(n)
		a.jcc(ccNS, target)
		c.exit(budget, target)
		a.bind(fall)
		c.charge(n)
		return
	}
	taken := a.newLabel()
	a.jcc(cc, taken)
	c.charge(n)
	c.stub(taken, func() {
		c.charge(n)
		a.jcc(ccNS, target)
		c.exit(budget, target)
	})
}

// localCall emits a BPF-to-BPF call: push a frame in the context (return
// address and r6-r9), move r10 down one frame and jump. No native call is
// made, so the code can exit to Go from any depth and resume there.
func (c *compiler) localCall(pc int, ins isa.Instruction) {
	a := &c.a
	t, _ := ins.BranchTarget(pc)
	n := int(c.pending(pc))
	tooDeep := a.newLabel()
	a.load(true, tmp2, ctxReg, offDepth)
	a.aluRI(extCmp, true, tmp2, vm.MaxCallDepth)
	a.jcc(ccAE, tooDeep)
	c.stub(tooDeep, func() {
		c.exit(exitInfo{kind: exitCallDepth, pc: int32(pc), partial: int32(n)}, tooDeep)
	})
	a.lea(tmp1, tmp2, 1)
	a.store(true, ctxReg, offDepth, tmp1)
	a.shiftRI(0, extShl, true, tmp2, frameShift)
	a.aluRR(opAdd, true, tmp2, ctxReg)
	a.leaLabel(tmp1, c.pcLabel[pc+1])
	a.store(true, tmp2, offFrames, tmp1)
	for i, r := range bpfReg[6:10] {
		a.store(true, tmp2, offFrames+offFrameR+int32(8*i), r)
	}
	a.aluRI(extSub, true, rbp, vm.StackSize)
	if c.zeroCalls {
		c.clearFrame()
	}
	c.charge(n)
	a.jcc(ccNS, c.pcLabel[t])
	c.exit(exitInfo{kind: exitBudget, pc: int32(pc)}, c.pcLabel[t])
}

// clearFrame zeroes the frame below r10 when a call enters it, in checked
// runs and for programs that read unwritten bytes of called functions'
// frames (vm.CallFramesZeroed): unverified programs that read stack they
// never wrote then behave the same on every run
// (docs/decisions/0003-memory.md), and verified ones never see an earlier
// call's data (docs/decisions/0018-unwritten-stack.md).
func (c *compiler) clearFrame() {
	a := &c.a
	loop := a.newLabel()
	a.lea(tmp1, rbp, -vm.StackSize)
	a.bind(loop)
	for off := int32(0); off < 32; off += 8 {
		a.rm(0, true, false, []byte{0xc7}, 0, tmp1, off) // mov qword [tmp1+off], 0
		a.u32(0)
	}
	a.aluRI(extAdd, true, tmp1, 32)
	a.aluRR(opCmp, true, tmp1, rbp)
	a.jcc(ccB, loop)
}

// ret emits exit: at the run's base depth (0, or a callback's) the run
// ends; deeper, pop the frame, restore r6-r9 and r10 and jump to the
// return address.
func (c *compiler) ret(pc int) {
	a := &c.a
	n := c.pending(pc)
	done := exitInfo{kind: exitReturn, pc: int32(pc), partial: n}
	if !c.calls {
		c.exitHere(done)
		return
	}
	top := a.newLabel()
	a.load(true, tmp2, ctxReg, offDepth)
	a.rm(0, true, false, []byte{0x3b}, tmp2, ctxReg, offBase) // cmp tmp2, base
	a.jcc(ccE, top)
	c.stub(top, func() { c.exit(done, top) })
	a.aluRI(extSub, true, tmp2, 1)
	a.store(true, ctxReg, offDepth, tmp2)
	a.shiftRI(0, extShl, true, tmp2, frameShift)
	a.aluRR(opAdd, true, tmp2, ctxReg)
	for i, r := range bpfReg[6:10] {
		a.load(true, r, tmp2, offFrames+offFrameR+int32(8*i))
	}
	a.aluRI(extAdd, true, rbp, vm.StackSize)
	c.charge(int(n))
	outOfBudget := a.newLabel()
	a.jcc(ccS, outOfBudget)
	c.stub(outOfBudget, func() { c.exit(exitInfo{kind: exitBudget, pc: int32(pc)}, c.retResume) })
	a.jmpMem(tmp2, offFrames)
}
