package amd64

import (
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// ConstantMapArgs returns map facts for a test program (vm.Program.MapArgs):
// the constant r1 of each bpf_map_lookup_elem call, 0 where none is known.
// The engine takes these facts from the verifier (decision 0016); the tests'
// programs carry raw map pointers that the verifier cannot follow, and this
// analysis stands in for it. nil if the program does not scan.
func ConstantMapArgs(p *vm.Program) []uint64 {
	c := &compiler{prog: p.Instructions, leader: make([]bool, len(p.Instructions)+1), start: make([]int32, len(p.Instructions)),
		helperIndex: map[int32]int32{}, funcs: map[int]bool{}}
	if c.scan(p) != nil {
		return nil
	}
	out := make([]uint64, len(p.Instructions))
	for pc, ptr := range c.constantArgs(lookupHelper) {
		out[pc] = ptr
	}
	return out
}

// Constant r1 at helper calls: a forward data-flow analysis over the
// program's blocks that tracks which registers hold a value loaded by an
// lddw (possibly copied with mov), the way map pointers reach helpers.
// Everything else a register may hold is "unknown". At the entry of the
// program, of BPF functions and of callbacks every register is unknown;
// where paths meet, a register stays known only if it holds the same
// constant on each. The lattice is tiny (unreached, one constant, unknown),
// so each block is revisited at most twice per register.

// unknown marks a register whose value the analysis does not know; other
// values index the constants table.
const unknown = -1

// regState is the known constant of r0..r9 (r10 is the frame pointer).
type regState [10]int32

// constantArgs returns, for each call of helper id whose r1 is the same
// lddw constant on every path that reaches it, that constant, by slot. It
// needs the block leaders (c.leader) and the entries of BPF functions and
// callbacks, which scan found.
func (c *compiler) constantArgs(id int32) map[int]uint64 {
	prog := c.prog
	calls := false
	for _, ins := range prog {
		if ins.Opcode == isa.OpCall && ins.Src == isa.CallHelper && ins.Imm == id {
			calls = true
			break
		}
	}
	if !calls {
		return nil
	}
	// Blocks: a leader starts one, it runs to the next leader.
	block := make([]int32, len(prog)) // slot -> block of leaders, -1 elsewhere
	var starts []int
	for pc := range prog {
		block[pc] = -1
		if c.leader[pc] {
			block[pc] = int32(len(starts))
			starts = append(starts, pc)
		}
	}
	in := make([]regState, len(starts))
	seen := make([]bool, len(starts))
	var consts []uint64
	index := map[uint64]int32{}
	var work []int32
	all := regState{}
	for i := range all {
		all[i] = unknown
	}
	join := func(b int32, s *regState) {
		if !seen[b] {
			seen[b], in[b] = true, *s
			work = append(work, b)
			return
		}
		changed := false
		for r, v := range s {
			if in[b][r] != v && in[b][r] != unknown {
				in[b][r] = unknown
				changed = true
			}
		}
		if changed {
			work = append(work, b)
		}
	}
	// Entries: the program, BPF functions (local call targets) and
	// callbacks start with nothing known.
	join(0, &all)
	for pc, ins := range prog {
		if t, ok := ins.BranchTarget(pc); ok && ins.IsLocalCall() {
			join(block[t], &all)
		}
	}
	for fn := range c.funcs {
		join(block[fn], &all)
	}
	constOf := func(v uint64) int32 {
		i, ok := index[v]
		if !ok {
			i = int32(len(consts))
			consts = append(consts, v)
			index[v] = i
		}
		return i
	}
	// walk runs block b from its entry state, calling site at each call of
	// id, and returns the state at its end and its last instruction.
	walk := func(b int32, site func(pc int, s *regState)) (regState, int) {
		s := in[b]
		pc, last := starts[b], starts[b]
		for pc < len(prog) && (pc == starts[b] || block[pc] < 0) {
			ins := prog[pc]
			last = pc
			if ins.Opcode == isa.OpCall && ins.Src == isa.CallHelper && ins.Imm == id && site != nil {
				site(pc, &s)
			}
			transfer(&s, ins, prog, pc, constOf)
			if ins.IsLoadImm64() {
				pc++
			}
			pc++
		}
		return s, last
	}
	for len(work) > 0 {
		b := work[len(work)-1]
		work = work[:len(work)-1]
		s, last := walk(b, nil)
		ins := prog[last]
		next := last + 1
		if ins.IsLoadImm64() {
			next++
		}
		if t, ok := ins.BranchTarget(last); ok && (ins.IsJumpA() || ins.IsConditionalJump()) {
			join(block[t], &s)
		}
		// Control falls through unless the block ends in exit or an
		// unconditional jump; a local call continues here when it returns,
		// with r6-r9 restored from its frame.
		if !ins.IsExit() && !ins.IsJumpA() && next < len(prog) {
			join(block[next], &s)
		}
	}
	out := map[int]uint64{}
	for b := range starts {
		if !seen[b] {
			continue // unreachable: compiled, never run
		}
		walk(int32(b), func(pc int, s *regState) {
			if s[1] != unknown {
				out[pc] = consts[s[1]]
			}
		})
	}
	return out
}

// transfer applies one instruction to the state: registers it writes
// become unknown unless it is an lddw of an immediate or a 64-bit register
// move.
func transfer(s *regState, ins isa.Instruction, prog []isa.Instruction, pc int, constOf func(uint64) int32) {
	set := func(r isa.Register, v int32) {
		if r < 10 {
			s[r] = v
		}
	}
	clobber := func() { // calls and legacy packet loads clobber r0-r5
		for r := range 6 {
			s[r] = unknown
		}
	}
	switch cls := ins.Opcode.Class(); {
	case ins.IsLoadImm64():
		if ins.Src == isa.PseudoImm64 {
			set(ins.Dst, constOf(isa.Imm64(ins, prog[pc+1])))
		} else {
			set(ins.Dst, unknown)
		}
	case cls == isa.ClassALU64 && ins.Opcode.ALUOp() == isa.ALUMov && ins.Opcode.Source() == isa.SourceX && ins.Offset == 0:
		v := int32(unknown)
		if ins.Src < 10 {
			v = s[ins.Src]
		}
		set(ins.Dst, v)
	case cls == isa.ClassALU || cls == isa.ClassALU64 || cls == isa.ClassLDX:
		set(ins.Dst, unknown)
	case (cls == isa.ClassSTX || cls == isa.ClassST) && ins.Opcode.Mode() == isa.ModeATOMIC:
		if ins.Imm&isa.AtomicFetch != 0 { // fetch forms and xchg write src
			set(ins.Src, unknown)
		}
		if ins.Imm == isa.AtomicCmpXchg {
			set(isa.R0, unknown)
		}
	case cls == isa.ClassLD:
		clobber()
	case (cls == isa.ClassJMP || cls == isa.ClassJMP32) && (ins.Opcode == isa.OpCall || ins.Opcode == isa.OpCallX):
		clobber()
	}
}
