package progen

import "github.com/bpfhost/bpfhost/isa"

// maxDepth bounds the nesting of conditional blocks and loops.
const maxDepth = 4

// An outermost loop may contain conditional jumps only if it is short, so
// that the Linux verifier does not walk exponentially many paths; see the
// package documentation.
const (
	maxNestForks    = 1
	forkyIterations = 8
)

// Conditions drawn for conditional jumps.
var jumpOps = []isa.JumpOp{
	isa.JumpEq, isa.JumpGT, isa.JumpGE, isa.JumpSet, isa.JumpNE, isa.JumpSGT,
	isa.JumpSGE, isa.JumpLT, isa.JumpLE, isa.JumpSLT, isa.JumpSLE,
}

func jumpClass(g *Generator) isa.Class {
	if g.rng.IntN(2) == 0 {
		return isa.ClassJMP32
	}
	return isa.ClassJMP
}

// nested runs the block generator with a budget of n slots, one level deeper,
// and charges what it used to the enclosing budget.
func (g *Generator) nested(n int) {
	outer := g.left - n
	g.left = n
	g.depth++
	g.block()
	g.depth--
	g.left += outer
}

// patch points the forward jump at pc to the end of the program so far.
func (g *Generator) patch(pc int) {
	off := len(g.out) - pc - 1
	if g.out[pc].Opcode == isa.OpJA32 {
		g.out[pc].Imm = int32(off)
	} else {
		g.out[pc].Offset = int16(off)
	}
}

// branch emits a conditional jump over a nested block, and sometimes an else
// block that the first block skips with ja (or gotol). After the join, only
// bytes written on both paths count as written.
func (g *Generator) branch() bool {
	if !g.fits(2) || g.depth >= maxDepth {
		return false
	}
	if g.loops > 0 {
		if !g.nestForky || g.nestForks >= maxNestForks {
			return false
		}
		g.nestForks++
	}
	cond := isa.Instruction{Opcode: isa.Opcode(jumpClass(g)) | isa.Opcode(jumpOps[g.rng.IntN(len(jumpOps))]), Dst: g.src()}
	switch r := g.rng.IntN(8); {
	case r == 0: // a register against itself decides statically
		cond.Opcode |= isa.Opcode(isa.SourceX)
		cond.Src = cond.Dst
	case r < 4:
		cond.Opcode |= isa.Opcode(isa.SourceX)
		cond.Src = g.src()
	default:
		cond.Imm = g.imm32()
	}
	jcc := len(g.out)
	g.emit(cond)
	before := g.written
	g.nested(1 + g.rng.IntN(min(g.left, 16)))
	if !g.fits(2) || g.rng.IntN(2) == 0 {
		g.patch(jcc)
		g.written = before
		return true
	}
	then := g.written
	ja := len(g.out)
	if g.opts.V4 && g.rng.IntN(2) == 0 {
		g.emit(isa.Instruction{Opcode: isa.OpJA32})
	} else {
		g.emit(isa.Instruction{Opcode: isa.OpJA})
	}
	g.patch(jcc)
	g.written = before
	g.nested(1 + g.rng.IntN(min(g.left, 16)))
	g.patch(ja)
	g.written = then.intersect(g.written)
	return true
}

// loop emits a do-while loop with a constant trip count: the counter is set,
// the body runs with the counter reserved, then the counter steps towards its
// bound and a backward conditional jump repeats the body. The body runs at
// least once, so what it writes counts as written after the loop.
func (g *Generator) loop() bool {
	if g.loops == 0 {
		g.nestForky = g.opts.Jumps && g.rng.IntN(2) == 0
		g.nestForks = 0
	}
	limit := g.opts.MaxIterations
	if g.nestForky {
		limit = min(limit, forkyIterations)
	}
	room := limit / g.iters
	if room < 1 || !g.fits(4) || g.depth >= maxDepth {
		return false
	}
	var free []isa.Register
	for r := isa.R1; r <= isa.R9; r++ { // never r0: cmpxchg writes it
		if !g.reserved[r] {
			free = append(free, r)
		}
	}
	if len(free) == 0 {
		return false
	}
	c := free[g.rng.IntN(len(free))]
	n := 1 + g.rng.IntN(min(room, 8))
	cls := isa.ClassALU64
	if g.rng.IntN(2) == 0 {
		cls = isa.ClassALU
	}
	down := g.rng.IntN(2) == 0
	if down {
		g.emit(aluK(cls, isa.ALUMov, c, int32(n)))
	} else {
		g.emit(aluK(cls, isa.ALUMov, c, 0))
	}

	head := len(g.out)
	g.reserved[c] = true
	g.iters *= n
	g.loops++
	g.nested(g.rng.IntN(min(g.left-2, 24)) + 1)
	g.loops--
	g.iters /= n
	g.reserved[c] = false

	// Step and test. Every form below repeats exactly while the counter
	// has not reached its bound, with either jump class, since the counter
	// stays in 0..n.
	var step, back isa.Instruction
	jcls := jumpClass(g)
	if down {
		if g.rng.IntN(2) == 0 {
			step = aluK(cls, isa.ALUAdd, c, -1)
		} else {
			step = aluK(cls, isa.ALUSub, c, 1)
		}
		conds := []struct {
			op  isa.JumpOp
			imm int32
		}{{isa.JumpNE, 0}, {isa.JumpGT, 0}, {isa.JumpSGT, 0}, {isa.JumpGE, 1}, {isa.JumpSGE, 1}, {isa.JumpSet, -1}}
		k := conds[g.rng.IntN(len(conds))]
		back = isa.Instruction{Opcode: isa.Opcode(jcls) | isa.Opcode(k.op), Dst: c, Imm: k.imm}
	} else {
		step = aluK(cls, isa.ALUAdd, c, 1)
		conds := []struct {
			op  isa.JumpOp
			imm int32
		}{{isa.JumpNE, int32(n)}, {isa.JumpLT, int32(n)}, {isa.JumpSLT, int32(n)}, {isa.JumpLE, int32(n - 1)}, {isa.JumpSLE, int32(n - 1)}}
		k := conds[g.rng.IntN(len(conds))]
		back = isa.Instruction{Opcode: isa.Opcode(jcls) | isa.Opcode(k.op), Dst: c, Imm: k.imm}
	}
	g.emit(step)
	back.Offset = int16(head - len(g.out) - 1)
	g.emit(back)
	return true
}
