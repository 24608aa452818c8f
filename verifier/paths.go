package verifier

import (
	"math"

	"github.com/bpfhost/bpfhost/isa"
)

// Path sensitivity by bounded disjunction (decision 0020). Where paths
// meet, joining their states can lose what a later test needs: a register
// that is a pointer on one path and a number, NULL or nothing on the
// other (the join is "mixed" or "maybe NULL"), or a packet range proven on
// one path only (the join keeps the shorter). Linux follows the paths
// apart, and a later test that repeats an earlier decision (`if (flag)`
// twice) then sees each path alone. bpfhost keeps up to maxDisjuncts
// states apart at the input of a block that heads no loop when joining
// them would lose one of those facts, processes the block once per state,
// and joins beyond that (into the state whose join loses the least). Loop
// heads always join, so widening converges as before; but the states
// entering a loop of a function's top level from outside are partitioned
// the same way, and the loop is analysed once per group of them
// (componentGroups), so that paths kept apart before a loop stay apart
// after it. Every state kept
// is a sound description of the paths it stands for, so the analysis
// stays sound whatever the partition, and only its cost and precision
// depend on it.
//
// Which facts matter is judged on the registers and the running
// function's stack slots live at the block's start (a dead register or
// slot that differs, which clang's register and stack reuse make common,
// is no reason to split), and on the callers' spills.

// maxDisjuncts is how many states a block's input keeps apart.
const maxDisjuncts = 8

// liveness is what may be read before it is written from a block's
// start on: registers (bit r for r0..r9) and the function's own stack
// slots (bit i for the 8 bytes at r10-512+8i).
type liveness struct {
	regs  uint16
	stack uint64
}

// liveIn returns the liveness at the start of each block of fn, computed
// once per function. Only the partition of inputs reads it, so an
// over-approximation costs precision of the partition, never soundness:
// an instruction that copies r10 (a stack address handed to a helper or
// kept in a register), or a call, makes every slot live there.
func (a *analyzer) liveIn(fn *function) []liveness {
	if fn.live != nil {
		return fn.live
	}
	gen := make([]liveness, len(fn.blocks))
	kill := make([]liveness, len(fn.blocks))
	for v, b := range fn.blocks {
		var g, k liveness
		for pc := b.start; pc < b.end; pc++ {
			ins := a.prog[pc]
			use, def := regUseDef(ins)
			g.regs |= use &^ k.regs
			k.regs |= def
			suse, sdef := stackUseDef(ins)
			g.stack |= suse &^ k.stack
			k.stack |= sdef
			if ins.IsLoadImm64() {
				pc++
			}
		}
		gen[v], kill[v] = g, k
	}
	live := make([]liveness, len(fn.blocks))
	for changed := true; changed; {
		changed = false
		for v := len(fn.blocks) - 1; v >= 0; v-- {
			var out liveness
			for _, s := range fn.blocks[v].succs {
				out.regs |= live[s].regs
				out.stack |= live[s].stack
			}
			in := liveness{gen[v].regs | out.regs&^kill[v].regs, gen[v].stack | out.stack&^kill[v].stack}
			if in != live[v] {
				live[v] = in
				changed = true
			}
		}
	}
	fn.live = live
	return live
}

// slotsOf returns the stack slots that bytes [off, off+size) of the frame
// (off from r10) touch.
func slotsOf(off, size int) uint64 {
	lo, hi := (off+frameSize)/8, (off+frameSize+size-1)/8
	if off < -frameSize || off+size > 0 || size <= 0 {
		return 0
	}
	var m uint64
	for i := lo; i <= hi; i++ {
		m |= 1 << i
	}
	return m
}

// stackUseDef returns the stack slots an instruction may read through
// r10 and those it surely overwrites whole. One that copies r10 anywhere
// may let anything read any slot, and a call may read any through its
// pointer arguments: all are used.
func stackUseDef(ins isa.Instruction) (use, def uint64) {
	const all = ^uint64(0)
	op := ins.Opcode
	c := op.Class()
	size := 0
	if c.IsLoadStore() && op.Mode() != isa.ModeIMM {
		size = op.Size().Bytes()
	}
	switch {
	case c == isa.ClassLDX:
		if ins.Src == isa.R10 {
			return slotsOf(int(ins.Offset), size), 0
		}
		return 0, 0
	case c == isa.ClassST || c == isa.ClassSTX:
		if c == isa.ClassSTX && ins.Src == isa.R10 {
			return all, 0
		}
		if ins.Dst != isa.R10 {
			return 0, 0
		}
		s := slotsOf(int(ins.Offset), size)
		if op.Mode() == isa.ModeATOMIC {
			return s, 0
		}
		if size == 8 && ins.Offset%8 == 0 {
			return 0, s
		}
		return 0, 0
	}
	if readsR10(ins) || ins.IsCall() {
		return all, 0
	}
	return 0, 0
}

// readsR10 reports whether an ALU or jump instruction reads r10.
func readsR10(ins isa.Instruction) bool {
	op := ins.Opcode
	c := op.Class()
	if !c.IsALU() && !c.IsJump() {
		return false
	}
	if op.Source() == isa.SourceX && ins.Src == isa.R10 {
		return true
	}
	return ins.Dst == isa.R10 && !ins.IsCall() && !ins.IsExit() && !ins.IsJumpA()
}

const (
	regsArgs   uint16 = 0b111110 // r1..r5
	regsCaller uint16 = 0b111111 // r0..r5: clobbered by a call
)

// regUseDef returns the registers an instruction may read and those it
// surely writes (r10 is left out: it never differs between paths).
func regUseDef(ins isa.Instruction) (use, def uint16) {
	bit := func(r isa.Register) uint16 {
		if r > 9 {
			return 0
		}
		return 1 << r
	}
	op := ins.Opcode
	x := op.Source() == isa.SourceX
	switch c := op.Class(); {
	case c.IsALU():
		switch op.ALUOp() {
		case isa.ALUMov:
			if x {
				use = bit(ins.Src)
			}
		default:
			use = bit(ins.Dst)
			if x && op.ALUOp() != isa.ALUEnd && op.ALUOp() != isa.ALUNeg {
				use |= bit(ins.Src)
			}
		}
		def = bit(ins.Dst)
	case c == isa.ClassLDX:
		use, def = bit(ins.Src), bit(ins.Dst)
	case c == isa.ClassST:
		use = bit(ins.Dst)
	case c == isa.ClassSTX:
		use = bit(ins.Dst) | bit(ins.Src)
		if op.Mode() == isa.ModeATOMIC {
			if ins.Imm == isa.AtomicCmpXchg {
				use |= 1
				def = 1
			} else if ins.Imm&isa.AtomicFetch != 0 {
				def = bit(ins.Src)
			}
		}
	case c == isa.ClassLD:
		switch op.Mode() {
		case isa.ModeIMM:
			def = bit(ins.Dst)
		default: // legacy packet loads read the context in r6
			use = 1<<6 | bit(ins.Src)
			def = regsCaller
		}
	case c.IsJump():
		switch {
		case ins.IsExit():
			use = 1
		case ins.IsCall():
			use = regsArgs
			if op == isa.OpCallX {
				use |= bit(ins.Dst)
			}
			def = regsCaller
		case ins.IsJumpA():
		default:
			use = bit(ins.Dst)
			if x {
				use |= bit(ins.Src)
			}
		}
	default:
		use = 0x3ff // unknown: everything may be read
	}
	return use, def
}

// losses counts the facts that joining a and b would lose (see the top of
// the file); live says which registers count.
func losses(a, b *state, live liveness) int {
	n := 0
	for r := 0; r < 10; r++ {
		if live.regs&(1<<r) != 0 && valueLoss(a, b, locReg(r), a.regs[r], b.regs[r]) {
			n++
		}
	}
	top := len(a.frames) - 1
	dead := func(fi int, sp spill) bool {
		return fi == top && live.stack&slotsOf(int(sp.off), int(sp.size)) == 0
	}
	for fi := range a.frames {
		fa, fb := a.frames[fi], b.frames[fi]
		if fa == fb {
			continue
		}
		for i := range fa.saved {
			if valueLoss(a, b, locSaved(fi, 6+i), fa.saved[i], fb.saved[i]) {
				n++
			}
		}
		i, j := 0, 0
		for i < len(fa.spill) && j < len(fb.spill) {
			sa, sb := fa.spill[i], fb.spill[j]
			switch {
			case sa.off == sb.off && dead(fi, sa) && dead(fi, sb):
				i++
				j++
			case sa.off == sb.off:
				if valueLoss(a, b, locSpill(fi, int(sa.off)), sa.v, sb.v) || sa.size != sb.size && (sa.v.kind.isPointer() || sb.v.kind.isPointer()) {
					n++
				}
				i++
				j++
			case sa.off < sb.off:
				if sa.v.kind.isPointer() && !dead(fi, sa) {
					n++
				}
				i++
			default:
				if sb.v.kind.isPointer() && !dead(fi, sb) {
					n++
				}
				j++
			}
		}
		for ; i < len(fa.spill); i++ {
			if fa.spill[i].v.kind.isPointer() && !dead(fi, fa.spill[i]) {
				n++
			}
		}
		for ; j < len(fb.spill); j++ {
			if fb.spill[j].v.kind.isPointer() && !dead(fi, fb.spill[j]) {
				n++
			}
		}
	}
	return n
}

// valueLoss reports whether joining the values x (of a) and y (of b) at l
// loses a pointer's type, its being non-NULL, a ring buffer record's
// identity or a packet pointer's proven range.
func valueLoss(a, b *state, l loc, x, y value) bool {
	px, py := x.kind.isPointer(), y.kind.isPointer()
	if !px && !py {
		return false
	}
	if x.kind == y.kind {
		switch {
		case x.null != y.null:
			return true
		case x.kind == kRingbuf && x.id != y.id:
			return true
		case x.region != y.region && x.kind != kMapValue && x.kind != kMapPtr:
			return true
		case x.kind == kPacket:
			// Different lengths proven past the pointer: the join keeps
			// the shorter.
			return a.z.ub(l, locPkt) != b.z.ub(l, locPkt)
		}
		return false
	}
	// A pointer and NULL: the join is a pointer that may be NULL, which
	// loses only if the pointer was known not to be.
	if px && isNullConst(y) {
		return !x.null
	}
	if py && isNullConst(x) {
		return !y.null
	}
	return true
}

func isNullConst(v value) bool { return v.kind == kScalar && v.umax == 0 }

// partition adds st to the disjuncts ds of a block's input: joined into
// the first whose join loses nothing, kept apart while there are fewer
// than k, else joined into the one whose join loses the least.
// own says whether st belongs to the caller (else it is an edge's state,
// which must not change); fresh, parallel to ds, says the same of each
// disjunct.
func partition(ds []*state, fresh []bool, st *state, own bool, live liveness, k int) ([]*state, []bool) {
	best, bestLoss := -1, math.MaxInt
	for i, d := range ds {
		n := losses(d, st, live)
		if n < bestLoss {
			best, bestLoss = i, n
		}
		if n == 0 {
			break
		}
	}
	if best < 0 || (bestLoss > 0 && len(ds) < k) {
		return append(ds, st), append(fresh, own)
	}
	ds[best] = join(ds[best], st, false, nil)
	fresh[best] = true
	return ds, fresh
}

// entryGroups partitions the states entering top-level loop w from
// outside it as a block's input is partitioned; nil if that leaves one
// group (or the loop heads the function, whose entry state enters it).
func (a *analyzer) entryGroups(r *run, w wto) []*state {
	h := w.v
	fn := r.fn
	if h == 0 || a.paths <= 1 {
		return nil
	}
	live := a.liveIn(fn)[h]
	var ds []*state
	var fresh []bool
	for _, p := range fn.blocks[h].preds {
		if fn.inComponent(p, h) || r.out[p] == nil {
			continue
		}
		for i, succ := range fn.blocks[p].succs {
			if succ != h || i >= len(r.out[p]) {
				continue
			}
			for _, st := range r.out[p][i] {
				if st != nil {
					st, own := a.edgeState(r, h, p, st)
					ds, fresh = partition(ds, fresh, st, own, live, a.paths)
				}
			}
		}
	}
	if len(ds) < 2 {
		return nil
	}
	return ds
}

// componentGroups analyses top-level loop w once per group of the states
// entering it (entryGroups): its fixpoint and final pass from that group
// alone. The states leaving the loop are those of every group, kept
// apart. Each analysis is sound for the runs entering with its group,
// and the groups cover every run.
func (a *analyzer) componentGroups(r *run, w wto, groups []*state, check bool) error {
	h := w.v
	fn := r.fn
	var blocks []int
	var collect func(x wto)
	collect = func(x wto) {
		blocks = append(blocks, x.v)
		for _, y := range x.body {
			collect(y)
		}
	}
	collect(w)
	leaving := make(map[int][][]*state)
	if r.entryOf == nil {
		r.entryOf = map[int]*state{}
	}
	defer delete(r.entryOf, h)
	for _, g := range groups {
		// The loop's states from the previous group must not flow in.
		for _, v := range blocks {
			if err := a.setIn(r, v, nil); err != nil {
				return err
			}
			if err := a.setOut(r, v, nil); err != nil {
				return err
			}
		}
		r.entryOf[h] = g
		exit := r.exit
		r.check, r.verbose = false, false
		if err := a.component(r, w); err != nil {
			return err
		}
		r.exit = exit
		if err := a.final(r, check, func() error { return a.pass(r, []wto{w}) }); err != nil {
			return err
		}
		for _, v := range blocks {
			outs := r.out[v]
			for i, succ := range fn.blocks[v].succs {
				if i >= len(outs) || fn.inComponent(succ, h) {
					continue
				}
				if leaving[v] == nil {
					leaving[v] = make([][]*state, len(fn.blocks[v].succs))
				}
				leaving[v][i] = append(leaving[v][i], outs[i]...)
			}
		}
	}
	for _, v := range blocks {
		if err := a.setOut(r, v, leaving[v]); err != nil {
			return err
		}
	}
	return nil
}
