package verifier

import (
	"sort"

	"github.com/bpfhost/bpfhost/isa"
)

// The control-flow graph of one function: basic blocks split at jump
// targets and after jumps and exits (calls stay inside blocks; the
// analysis steps into them), and their weak topological order, which says
// where loops are and in which order to iterate.

type block struct {
	start, end int // slot range [start, end)
	succs      []int
	preds      []int
	// heads are the loop heads whose component contains the block,
	// outermost first (a head is in its own component).
	heads []int
}

type function struct {
	start, end int
	blocks     []*block
	byStart    []int // block index by slot - start (for block starts)
	wto        []wto
	heads      []bool      // blocks that head a loop
	consts     []int64     // immediates, for widening thresholds
	th         *thresholds // from consts, when a loop first needs them
	release    *plan       // releasePlan, when first analysed
	live       []liveness  // what is live at each block's start (liveness.go)
}

// wto is an element of a weak topological order: a block, or a component
// (a loop) with its head block and body.
type wto struct {
	v    int
	body []wto // nil for a plain vertex
	comp bool
}

// functionStarts returns the start of every function: the entry, targets
// of local calls and of lddw function addresses. Validate has checked them.
func functionStarts(prog []isa.Instruction) []int {
	starts := map[int]bool{0: true}
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		if ins.IsLocalCall() || (ins.IsLoadImm64() && ins.Src == isa.PseudoFunc) {
			starts[pc+1+int(ins.Imm)] = true
		}
		if ins.IsLoadImm64() {
			pc++
		}
	}
	out := make([]int, 0, len(starts))
	for s := range starts {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}

// buildFunction builds the CFG of the function in [start, end) and its
// weak topological order; with budget > 0, it returns nil if the order
// takes more than budget visits (buildWTO).
func buildFunction(prog []isa.Instruction, start, end, budget int) *function {
	fn := &function{start: start, end: end, byStart: make([]int, end-start+1), consts: make([]int64, 0, end-start)}
	leader := make([]bool, end-start+1) // by slot - start
	leader[0] = true
	for pc := start; pc < end; pc++ {
		ins := prog[pc]
		size := 1
		if ins.IsLoadImm64() {
			size = 2
			fn.consts = append(fn.consts, int64(isa.Imm64(ins, prog[pc+1])))
		} else if ins.Opcode.Class() != isa.ClassLDX {
			fn.consts = append(fn.consts, int64(ins.Imm))
		}
		if t, ok := ins.BranchTarget(pc); ok && !ins.IsLocalCall() {
			leader[t-start] = true
			if pc+size < end {
				leader[pc+size-start] = true
			}
		}
		if ins.IsExit() && pc+1 < end {
			leader[pc+1-start] = true
		}
		pc += size - 1
	}
	var starts []int
	for i, l := range leader[:end-start] {
		if l {
			starts = append(starts, start+i)
		}
	}
	// One allocation for the blocks, one for their successor lists.
	blocks := make([]block, len(starts))
	succs := make([]int, 0, 2*len(starts))
	fn.blocks = make([]*block, 0, len(starts))
	for i, s := range starts {
		e := end
		if i+1 < len(starts) {
			e = starts[i+1]
		}
		fn.byStart[s-start] = i
		blocks[i] = block{start: s, end: e}
		fn.blocks = append(fn.blocks, &blocks[i])
	}
	// succ returns a successor list from the shared array, its capacity
	// ending at its length so that appending to it copies it out.
	succ := func(ss ...int) []int {
		n := len(succs)
		succs = append(succs, ss...)
		return succs[n:len(succs):len(succs)]
	}
	for i, b := range fn.blocks {
		last := lastInsn(prog, b)
		ins := prog[last]
		next := last + 1
		if ins.IsLoadImm64() {
			next++
		}
		switch {
		case ins.IsExit():
		case ins.IsJumpA():
			t, _ := ins.BranchTarget(last)
			b.succs = succ(fn.byStart[t-start])
		case ins.IsConditionalJump():
			t, _ := ins.BranchTarget(last)
			b.succs = succ(fn.byStart[next-start], fn.byStart[t-start])
		default:
			if next < end {
				b.succs = succ(fn.byStart[next-start])
			}
		}
		for _, s := range b.succs {
			fn.blocks[s].preds = append(fn.blocks[s].preds, i)
		}
	}
	fn.heads = make([]bool, len(fn.blocks))
	var ok bool
	if fn.wto, ok = buildWTO(fn, budget); !ok {
		return nil
	}
	var mark func(ws []wto, heads []int)
	mark = func(ws []wto, heads []int) {
		for _, w := range ws {
			if w.comp {
				h := append(append([]int(nil), heads...), w.v)
				fn.heads[w.v] = true
				fn.blocks[w.v].heads = h
				mark(w.body, h)
			} else {
				fn.blocks[w.v].heads = heads
			}
		}
	}
	mark(fn.wto, nil)
	return fn
}

// lastInsn returns the slot of the block's last instruction (the first
// slot of an lddw that ends it).
func lastInsn(prog []isa.Instruction, b *block) int {
	pc := b.start
	for {
		n := 1
		if prog[pc].IsLoadImm64() {
			n = 2
		}
		if pc+n >= b.end {
			return pc
		}
		pc += n
	}
}

// buildWTO computes Bourdoncle's weak topological order of the blocks
// reachable from the first. The depth-first search keeps its own stack
// of frames rather than recursing, so that a long chain of blocks (a
// hostile program of a million branches) costs a frame per block on the
// heap, not a goroutine stack grown to hundreds of megabytes. A loop's
// body is searched again for each loop around it, so n nested loops cost
// about n*n/2 visits: past budget visits (if budget > 0) it gives up and
// returns false.
func buildWTO(fn *function, budget int) ([]wto, bool) {
	n := len(fn.blocks)
	if n == 0 {
		return nil, true
	}
	dfn := make([]int, n)
	var stack []int // Bourdoncle's stack of visited vertices
	num := 0
	const done = 1 << 30
	// A frame is a visit of v: first over its successors (visit), then,
	// if v heads a loop, over them again to build the loop's body
	// (component). Its element goes to the body of frame out, or to the
	// result if out is -1. Frames are values, named by index, so that a
	// visit allocates nothing.
	type frame struct {
		v, i, head, out int
		loop, comp      bool
		body            []wto
	}
	var frames []frame
	var top []wto
	emit := func(out int, el wto) {
		if out < 0 {
			top = append(top, el) // reversed when the list is complete
		} else {
			frames[out].body = append(frames[out].body, el)
		}
	}
	visits := 0
	enter := func(v, out int) {
		visits++
		stack = append(stack, v)
		num++
		dfn[v] = num
		frames = append(frames, frame{v: v, head: num, out: out})
	}
	enter(0, -1)
	ret, returned := 0, false // the head a finished visit returns
	for len(frames) > 0 {
		if budget > 0 && visits > budget {
			return nil, false
		}
		k := len(frames) - 1
		f := &frames[k]
		if returned {
			returned = false
			if !f.comp && ret <= f.head {
				f.head, f.loop = ret, true
			}
		}
		succs := fn.blocks[f.v].succs
		if f.i < len(succs) {
			w := succs[f.i]
			f.i++
			switch {
			case dfn[w] == 0 && f.comp:
				enter(w, k)
			case dfn[w] == 0:
				enter(w, f.out)
			case !f.comp && dfn[w] <= f.head:
				f.head, f.loop = dfn[w], true
			}
			continue
		}
		if !f.comp && f.head == dfn[f.v] {
			dfn[f.v] = done
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.loop {
				for e != f.v {
					dfn[e] = 0
					e = stack[len(stack)-1]
					stack = stack[:len(stack)-1]
				}
				f.comp, f.i = true, 0
				continue
			}
			emit(f.out, wto{v: f.v})
		}
		if f.comp {
			reverse(f.body)
			emit(f.out, wto{v: f.v, body: f.body, comp: true})
		}
		ret, returned = f.head, true
		frames = frames[:k]
	}
	reverse(top)
	return top, true
}

// inComponent reports whether block b lies in the loop headed by h.
func (fn *function) inComponent(b, h int) bool {
	for _, x := range fn.blocks[b].heads {
		if x == h {
			return true
		}
	}
	return false
}

func reverse(ws []wto) {
	for i, j := 0, len(ws)-1; i < j; i, j = i+1, j-1 {
		ws[i], ws[j] = ws[j], ws[i]
	}
}

// thresholds returns the function's widening thresholds, building them
// the first time a loop needs them.
func (fn *function) thresholds() *thresholds {
	if fn.th == nil {
		fn.th = newThresholds(fn.consts)
	}
	return fn.th
}
