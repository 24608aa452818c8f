package verifier

import (
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"testing"
)

// recursiveWTO is Bourdoncle's algorithm as first written, recursively:
// the reference buildWTO's explicit stack must agree with.
func recursiveWTO(fn *function) []wto {
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
			m := dfn[w]
			if m == 0 {
				m = visit(w, out)
			}
			if m <= head {
				head, loop = m, true
			}
		}
		if head == dfn[v] {
			dfn[v] = done
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			el := wto{v: v}
			if loop {
				for e != v {
					dfn[e] = 0
					e = stack[len(stack)-1]
					stack = stack[:len(stack)-1]
				}
				el = component(v)
			}
			*out = append(*out, el)
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

// randomCFG makes a function of n blocks with up to two successors each,
// mostly forward, with back edges and jumps into loops (irreducible flow).
func randomCFG(rng *rand.Rand, n int) *function {
	fn := &function{}
	for i := 0; i < n; i++ {
		fn.blocks = append(fn.blocks, &block{start: i, end: i + 1})
	}
	for i, b := range fn.blocks {
		for k := rng.IntN(3); k > 0; k-- {
			t := rng.IntN(n)
			if rng.IntN(3) > 0 && i+1 < n {
				t = i + 1 + rng.IntN(min(4, n-i-1))
			}
			b.succs = append(b.succs, t)
		}
	}
	return fn
}

// TestWTOIterative: the weak topological order built with an explicit
// stack is the recursive algorithm's, on random graphs with loops, nested
// loops and irreducible flow.
func TestWTOIterative(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 3000; i++ {
		fn := randomCFG(rng, 1+rng.IntN(40))
		got, _ := buildWTO(fn, 0)
		want := recursiveWTO(fn)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("graph %d: got %v, want %v", i, got, want)
		}
	}
}

// TestWTOLongChain: a chain of a million blocks, each with a forward
// branch (F3's shape at 1M instructions), builds without a deep
// goroutine stack: the test caps goroutine stacks at 16 MB, which the
// recursive search overflows (a fatal error, not a failure).
func TestWTOLongChain(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(16 << 20))
	const n = 1 << 20
	fn := &function{}
	for i := 0; i < n; i++ {
		b := &block{start: i, end: i + 1}
		if i+1 < n {
			b.succs = append(b.succs, i+1)
		}
		if i+2 < n {
			b.succs = append(b.succs, i+2)
		}
		fn.blocks = append(fn.blocks, b)
	}
	if w, _ := buildWTO(fn, 0); len(w) != n {
		t.Fatalf("%d elements, want %d", len(w), n)
	}
}
