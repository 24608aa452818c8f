package amd64

import (
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// compiler translates one program into machine code.
type compiler struct {
	a       assembler
	prog    []isa.Instruction
	checked bool
	// zeroCalls: each call clears the frame it enters (checked runs,
	// vm.Program.ZeroCallFrames).
	zeroCalls bool
	// calls is true if the program makes BPF-to-BPF calls; without them an
	// exit always ends the run.
	calls bool

	pcLabel []label // code of each slot
	leader  []bool  // slot starts a block (see budget below)
	start   []int32 // first slot of the block each slot belongs to

	exits   []exitInfo
	resumes []label // resume label of each exit
	stubs   []stub  // out-of-line code, emitted after the body
	pc      int     // the slot being compiled, which owns the stubs it adds

	// inline maps the slots of bpf_map_lookup_elem calls whose map is
	// known at compile time to the map (Options.Maps).
	inline  map[int]*InlineMap
	lookups []elemLookup
	keep    []*InlineMap // maps whose memory the code addresses

	helpers     []vm.Helper
	helperIndex map[int32]int32
	// kfuncIndex is helperIndex for kfunc numbers (vm.Program.Kfuncs):
	// their implementations are in helpers too.
	kfuncIndex map[int32]int32
	funcs      map[int]bool // functions whose address the program takes
	// probe marks the loads through BTF pointers (vm.Program.ProbeLoads).
	probe map[int]bool

	commonExit label
	finalExit  label // the end of the run: only r0 and the budget matter
	retResume  label // continues a return after a budget exit
}

// output is what compile produces.
type output struct {
	code    []byte
	entry   int32 // offset of the entry routine
	start   int32 // offset of instruction 0
	exits   []exitInfo
	helpers []vm.Helper
	calls   bool // the code uses callContext.frames
	// funcs maps the slots of functions whose addresses the program takes
	// (lddw with isa.PseudoFunc: callbacks) to their code offsets.
	funcs   map[int]int32
	lookups []elemLookup
	keep    []*InlineMap
	layout  *layout
}

// stub is out-of-line code: f emits it at l, for the slot pc.
type stub struct {
	pc int
	l  label
	f  func()
}

// compile generates code for a validated program.
//
// Budget: the program is split into blocks, which start at the entry, at
// every jump or call target and after every jump, call and exit. A block is
// charged (budgetReg -= its length) when control leaves it, and the sign of
// budgetReg is tested only where the interpreter tests its budget: at taken
// jumps, calls and returns. That keeps counts and failure points identical
// to the interpreter's at one instruction per block boundary.
func compile(p *vm.Program, mode vm.Mode, opts Options) (*output, error) {
	prog := p.Instructions
	c := &compiler{
		prog:        prog,
		checked:     mode == vm.Checked,
		zeroCalls:   mode == vm.Checked || p.ZeroCallFrames,
		pcLabel:     make([]label, len(prog)),
		leader:      make([]bool, len(prog)+1),
		start:       make([]int32, len(prog)),
		helperIndex: map[int32]int32{},
		funcs:       map[int]bool{},
	}
	if err := c.scan(p); err != nil {
		return nil, err
	}
	for _, pc := range p.ProbeLoads {
		if c.probe == nil {
			c.probe = map[int]bool{}
		}
		c.probe[pc] = true
	}
	var err error
	if c.inline, err = c.resolveLookups(p.MapArgs, opts.Maps); err != nil {
		return nil, err
	}
	for i := range c.pcLabel {
		c.pcLabel[i] = c.a.newLabel()
	}
	c.commonExit = c.a.newLabel()
	c.finalExit = c.a.newLabel()
	c.retResume = c.a.newLabel()

	// Entry: load the BPF registers and the budget, continue at resume.
	entry := c.a.pos()
	for i, r := range bpfReg {
		c.a.load(true, r, ctxReg, offRegs+int32(8*i))
	}
	c.a.load(true, budgetReg, ctxReg, offBudget)
	c.a.jmpMem(ctxReg, offResume)

	// Every exit stores its index in tmp2 and comes here.
	c.a.bind(c.commonExit)
	c.a.store(true, ctxReg, offExit, tmp2)
	for i, r := range bpfReg {
		c.a.store(true, ctxReg, offRegs+int32(8*i), r)
	}
	c.a.store(true, ctxReg, offBudget, budgetReg)
	c.a.ret()

	// The run's last exit (exitReturn) stores only what Run reads after it:
	// the eleven other stores are a fifth of a trivial program's run.
	finalExit := c.a.pos()
	c.a.bind(c.finalExit)
	c.a.store(true, ctxReg, offExit, tmp2)
	c.a.store(true, ctxReg, offRegs, bpfReg[0])
	c.a.store(true, ctxReg, offBudget, budgetReg)
	c.a.ret()

	// A return that stopped for the budget continues here: the frame it
	// popped is still in place.
	lay := &layout{entry: entry, exit: c.a.labels[c.commonExit], final: finalExit, retResume: c.a.pos(), slots: make([]int32, len(prog)+1)}
	c.a.bind(c.retResume)
	c.a.load(true, tmp2, ctxReg, offDepth)
	c.a.shiftRI(0, extShl, true, tmp2, frameShift)
	c.a.aluRR(opAdd, true, tmp2, ctxReg)
	c.a.jmpMem(tmp2, offFrames)

	for pc := 0; pc < len(prog); pc++ {
		c.pc = pc
		c.a.bind(c.pcLabel[pc])
		lay.slots[pc] = c.a.pos()
		ins := prog[pc]
		next := pc + 1
		if ins.IsLoadImm64() {
			c.a.bind(c.pcLabel[pc+1]) // never a target; bound for completeness
			lay.slots[pc+1] = c.a.pos()
			v := isa.Imm64(ins, prog[pc+1])
			if ins.Src == isa.PseudoFunc { // a function's address is its slot
				v = uint64(pc + 1 + int(ins.Imm))
			}
			c.a.movImm(bpfReg[ins.Dst], v)
			next = pc + 2
		} else if err := c.instruction(pc, ins); err != nil {
			return nil, err
		}
		if next < len(prog) && c.leader[next] && !endsBlock(ins) {
			c.charge(next - int(c.start[pc])) // falling into the next block
		}
		if ins.IsLoadImm64() {
			pc++
		}
	}
	lay.slots[len(prog)] = c.a.pos()
	for i := 0; i < len(c.stubs); i++ { // stubs may add stubs
		s := c.stubs[i]
		c.pc = s.pc
		lay.stubs = append(lay.stubs, stubMark{pc: int32(s.pc), off: c.a.pos()})
		c.a.bind(s.l)
		s.f()
	}
	lay.end = c.a.pos()
	if !c.a.link() {
		return nil, fmt.Errorf("jit: internal error: unbound label")
	}
	out := &output{code: c.a.buf, entry: entry, start: c.a.labels[c.pcLabel[0]], exits: c.exits, helpers: c.helpers, calls: c.calls,
		lookups: c.lookups, keep: c.keep, layout: lay}
	for i := range out.exits {
		out.exits[i].resume = c.a.labels[c.resumes[i]]
	}
	if len(c.funcs) > 0 {
		out.funcs = map[int]int32{}
		for fn := range c.funcs {
			out.funcs[fn] = c.a.labels[c.pcLabel[fn]]
		}
	}
	return out, nil
}

// endsBlock reports whether an instruction charges its own block: jumps,
// calls to BPF functions and exit.
func endsBlock(ins isa.Instruction) bool {
	return ins.IsExit() || ins.IsLocalCall() || ins.IsJumpA() || ins.IsConditionalJump()
}

// scan finds block leaders, resolves helpers and rejects what the engine
// cannot run, like the interpreter does.
func (c *compiler) scan(p *vm.Program) error {
	prog := c.prog
	c.leader[0] = true
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		switch {
		case ins.IsLoadImm64() && ins.Src == isa.PseudoFunc:
			fn := pc + 1 + int(ins.Imm)
			c.funcs[fn] = true
			c.leader[fn] = true
			pc++
			continue
		case ins.IsLoadImm64():
			if ins.Src != isa.PseudoImm64 {
				return &vm.CompileError{PC: pc, Err: fmt.Errorf("%w: lddw with source form %d must be resolved by the loader", vm.ErrUnsupported, ins.Src)}
			}
			pc++
			continue
		case ins.Opcode == isa.OpCall && ins.Src == isa.CallKfunc:
			h, ok := p.Kfuncs[ins.Imm]
			if !ok || h == nil {
				return &vm.CompileError{PC: pc, Err: fmt.Errorf("%w %d", vm.ErrUnknownKfunc, ins.Imm)}
			}
			if c.kfuncIndex == nil {
				c.kfuncIndex = map[int32]int32{}
			}
			if _, seen := c.kfuncIndex[ins.Imm]; !seen {
				c.kfuncIndex[ins.Imm] = int32(len(c.helpers))
				c.helpers = append(c.helpers, h)
			}
		case ins.Opcode == isa.OpCall && ins.Src == isa.CallHelper:
			h, ok := p.Helpers[ins.Imm]
			if !ok || h == nil {
				return &vm.CompileError{PC: pc, Err: fmt.Errorf("%w %d", vm.ErrUnknownHelper, ins.Imm)}
			}
			if _, seen := c.helperIndex[ins.Imm]; !seen {
				c.helperIndex[ins.Imm] = int32(len(c.helpers))
				c.helpers = append(c.helpers, h)
			}
		case ins.IsLocalCall():
			c.calls = true
			c.leader[pc+1+int(ins.Imm)] = true
			c.leader[pc+1] = true
		case ins.IsExit():
			c.leader[pc+1] = true
		}
		if t, ok := ins.BranchTarget(pc); ok && (ins.IsJumpA() || ins.IsConditionalJump()) {
			c.leader[t] = true
			c.leader[pc+1] = true
		}
	}
	s := int32(0)
	for pc := range prog {
		if c.leader[pc] {
			s = int32(pc)
		}
		c.start[pc] = s
	}
	return nil
}

// charge subtracts n instructions from the budget; the flags then say
// whether the chunk is exhausted (sign set).
func (c *compiler) charge(n int) { c.a.aluRI(extSub, true, budgetReg, int32(n)) }

// pending is how many instructions of pc's block, up to and including pc,
// are not charged yet.
func (c *compiler) pending(pc int) int32 { return int32(pc) - c.start[pc] + 1 }

// exit emits a jump to commonExit for an exit described by x, which
// continues at resume when Run re-enters. The run's last exit goes to
// finalExit instead: nothing resumes after it.
func (c *compiler) exit(x exitInfo, resume label) {
	c.exits = append(c.exits, x)
	c.resumes = append(c.resumes, resume)
	c.a.movImm32(tmp2, uint32(len(c.exits)-1))
	if x.kind == exitReturn {
		c.a.jmp(c.finalExit)
		return
	}
	c.a.jmp(c.commonExit)
}

// exitHere emits an exit that continues right after itself.
func (c *compiler) exitHere(x exitInfo) {
	l := c.a.newLabel()
	c.exit(x, l)
	c.a.bind(l)
}

// stub emits code out of line, after the body, at label l.
func (c *compiler) stub(l label, f func()) {
	c.stubs = append(c.stubs, stub{pc: c.pc, l: l, f: f})
}

func (c *compiler) instruction(pc int, ins isa.Instruction) error {
	switch cls := ins.Opcode.Class(); cls {
	case isa.ClassALU, isa.ClassALU64:
		c.alu(ins)
	case isa.ClassJMP, isa.ClassJMP32:
		switch {
		case ins.IsExit():
			c.ret(pc)
		case ins.IsLocalCall():
			c.localCall(pc, ins)
		case ins.Opcode == isa.OpCall && ins.Src == isa.CallKfunc:
			c.exitHere(exitInfo{kind: exitHelper, pc: int32(pc), partial: c.pending(pc), arg: c.kfuncIndex[ins.Imm]})
		case ins.Opcode == isa.OpCall && c.inline[pc] != nil:
			c.lookupCall(pc, ins, c.inline[pc])
		case ins.Opcode == isa.OpCall:
			c.exitHere(exitInfo{kind: exitHelper, pc: int32(pc), partial: c.pending(pc), arg: c.helperIndex[ins.Imm]})
		case ins.Opcode == isa.OpCallX:
			c.exitHere(exitInfo{kind: exitCallx, pc: int32(pc), partial: c.pending(pc), arg: int32(ins.Dst)})
		default:
			c.jump(pc, ins)
		}
	case isa.ClassLD: // legacy packet loads; lddw is handled by the caller
		x := exitInfo{kind: exitPacket, pc: int32(pc), partial: c.pending(pc), size: uint8(ins.Opcode.Size().Bytes()), imm: ins.Imm, arg: -1}
		if ins.Opcode.Mode() == isa.ModeIND {
			x.arg = int32(ins.Src)
		}
		c.exitHere(x)
	case isa.ClassLDX:
		if c.probe[pc] {
			c.probeLoad(pc, ins)
			break
		}
		c.loadInsn(pc, ins)
	case isa.ClassST, isa.ClassSTX:
		if ins.Opcode.Mode() == isa.ModeATOMIC {
			return c.atomic(pc, ins)
		}
		c.storeInsn(pc, ins)
	default:
		return &vm.CompileError{PC: pc, Err: fmt.Errorf("%w: opcode %#02x", vm.ErrUnsupported, uint8(ins.Opcode))}
	}
	return nil
}
