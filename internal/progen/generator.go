package progen

import (
	"math/rand/v2"

	"github.com/bpfhost/bpfhost/isa"
)

// Generator makes random programs. It is not safe for concurrent use; give
// each goroutine its own, with its own rand.Rand.
type Generator struct {
	rng  *rand.Rand
	opts Options

	// State of the program being generated.
	out       []isa.Instruction
	left      int      // body slots still to spend
	written   stackSet // stack bytes written on every path to the end of out
	window    int      // the body uses stack offsets -window..-1
	reserved  [11]bool // loop counters live here: the body must not write them
	iters     int      // product of the trip counts of the enclosing loops
	depth     int      // nesting of blocks, to keep the shape shallow
	loops     int      // loops enclosing the current point
	nestForky bool     // whether the current outermost loop may contain conditional jumps
	nestForks int      // conditional jumps in the current outermost loop
}

// New returns a generator that draws from rng. The same rng state and options
// give the same programs.
func New(rng *rand.Rand, opts Options) *Generator {
	return &Generator{rng: rng, opts: opts.normalized()}
}

// Options returns the generator's options with defaults filled in.
func (g *Generator) Options() Options { return g.opts }

// Program returns a new random program: prologue, body and epilogue, ending
// in exit. It passes isa.Validate and Check.
func (g *Generator) Program() []isa.Instruction {
	g.out = make([]isa.Instruction, 0, g.opts.MaxLen+Overhead)
	g.written = stackSet{}
	g.reserved = [11]bool{}
	g.iters, g.depth, g.loops = 1, 0, 0
	g.window = windows[g.rng.IntN(len(windows))]

	g.prologue()
	g.left = 1 + g.rng.IntN(g.opts.MaxLen)
	g.block()
	g.epilogue()
	return g.out
}

// Stack windows a program may use: small ones make accesses overlap, so that
// loads read parts of wider stores and the other way round; the whole frame
// reaches its lowest byte.
var windows = []int{8, 16, 32, 64, 128, 512}

// block emits random instructions until the body budget is spent, or now
// and then earlier when it is a nested block, so that code follows it.
func (g *Generator) block() {
	for g.left > 0 {
		if g.depth > 0 && g.rng.IntN(12) == 0 {
			return
		}
		g.step()
	}
}

// step emits one construct: an instruction, a short sequence, a conditional
// block or a loop.
func (g *Generator) step() {
	for {
		switch r := g.rng.IntN(100); {
		case r < 45:
			if g.alu() {
				return
			}
		case r < 52:
			if g.constant() {
				return
			}
		case r < 64:
			if g.store() {
				return
			}
		case r < 78:
			if g.load() {
				return
			}
		case r < 86:
			if g.opts.Atomics && g.atomic() {
				return
			}
		case r < 95:
			if g.opts.Jumps && g.branch() {
				return
			}
		default:
			if g.opts.Loops && g.loop() {
				return
			}
		}
	}
}

// emit appends instructions and charges them to the body budget.
func (g *Generator) emit(ins ...isa.Instruction) {
	g.out = append(g.out, ins...)
	g.left -= len(ins)
}

// fits reports whether n more body slots are left.
func (g *Generator) fits(n int) bool { return g.left >= n }

// dst returns a random register the body may write: r0..r9 except the
// counters of the enclosing loops.
func (g *Generator) dst() isa.Register {
	for {
		r := isa.Register(g.rng.IntN(10))
		if !g.reserved[r] {
			return r
		}
	}
}

// src returns a random register to read: any of r0..r9, never r10.
func (g *Generator) src() isa.Register { return isa.Register(g.rng.IntN(10)) }

// loadImm64 returns the two slots of an lddw of v into r.
func loadImm64(r isa.Register, v uint64) []isa.Instruction {
	p := isa.LoadImm64(r, isa.PseudoImm64, v)
	return p[:]
}

// constant emits an lddw, or a mov of an immediate, into a random register.
func (g *Generator) constant() bool {
	r := g.dst()
	if g.rng.IntN(3) == 0 && g.fits(1) {
		cls := isa.ClassALU64
		if g.rng.IntN(2) == 0 {
			cls = isa.ClassALU
		}
		g.emit(aluK(cls, isa.ALUMov, r, g.imm32()))
		return true
	}
	if !g.fits(2) {
		return false
	}
	g.emit(loadImm64(r, g.value64())...)
	return true
}
