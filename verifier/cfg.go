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

func buildFunction(prog []isa.Instruction, start, end int) *function {
	fn := &function{start: start, end: end, byStart: make([]int, end-start+1)}
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
	for i, s := range starts {
		e := end
		if i+1 < len(starts) {
			e = starts[i+1]
		}
		fn.byStart[s-start] = i
		fn.blocks = append(fn.blocks, &block{start: s, end: e})
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
			b.succs = []int{fn.byStart[t-start]}
		case ins.IsConditionalJump():
			t, _ := ins.BranchTarget(last)
			b.succs = []int{fn.byStart[next-start], fn.byStart[t-start]}
		default:
			if next < end {
				b.succs = []int{fn.byStart[next-start]}
			}
		}
		for _, s := range b.succs {
			fn.blocks[s].preds = append(fn.blocks[s].preds, i)
		}
	}
	fn.heads = make([]bool, len(fn.blocks))
	fn.wto = buildWTO(fn)
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
// reachable from the first.
func buildWTO(fn *function) []wto {
	n := len(fn.blocks)
	dfn := make([]int, n)
	var stack []int
	num := 0
	const done = 1 << 30
	var visit func(v int, out *[]wto) int
	component := func(v int) wto {
		var body []wto
		for _, w := range fn.blocks[v].succs {
			if dfn[w] == 0 {
				visit(w, &body)
			}
		}
		reverse(body)
		return wto{v: v, body: body, comp: true}
	}
	visit = func(v int, out *[]wto) int {
		stack = append(stack, v)
		num++
		dfn[v] = num
		head := num
		loop := false
		for _, w := range fn.blocks[v].succs {
			var m int
			if dfn[w] == 0 {
				m = visit(w, out)
			} else {
				m = dfn[w]
			}
			if m <= head {
				head = m
				loop = true
			}
		}
		if head == dfn[v] {
			dfn[v] = done
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var el wto
			if loop {
				for e != v {
					dfn[e] = 0
					e = stack[len(stack)-1]
					stack = stack[:len(stack)-1]
				}
				el = component(v)
			} else {
				el = wto{v: v}
			}
			*out = append(*out, el) // reversed when the list is complete
		}
		return head
	}
	var out []wto
	if n > 0 {
		visit(0, &out)
	}
	reverse(out)
	return out
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
