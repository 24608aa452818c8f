package progen

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/bpfhost/bpfhost/isa"
)

// Precision makes random XDP programs in the shapes the verifier's precision
// changes accept (decisions 0018, 0020, 0030): error codes joined with
// results and tested by sign, 64-bit and 32-bit; signed 32-bit tests of
// wide numbers repeated after writes that must drop what the first test
// said (sub32.go); values that are a pointer on one path and a number, NULL
// or nothing on the other, tested again later; stack bytes written on some
// paths only and read by loads at fixed and variable offsets and by a
// helper; array lookups whose key may or may not be a constant 0
// (constkey.go); counted loops stepping a pointer through the map value
// (stride.go, strideptr.go) entered from paths kept apart; many diamonds
// in a row (16 disjuncts). Each fragment now and then gets one detail
// wrong (a bound one byte short, a test left out or reversed, a write
// between two tests). The soundness harness runs what the verifier accepts
// under the containment check, so an accepted flaw, or any state outside
// the verifier's, is a finding.
//
// Programs use one map, HostileArray (lddw of map index 0), and call
// bpf_map_lookup_elem, bpf_get_prandom_u32 (numbers the verifier cannot
// predict) and bpf_ktime_get_ns (wide numbers: test harnesses return
// values near the 32-bit and 64-bit sign boundaries). Registers: r6 = the
// context, r7 = the map value (16 bytes), r8 and r9 values fragments
// leave for later ones; r0-r5 scratch.
type Precision struct {
	// Only, if set, lists the fragments (0 <= i < PrecisionFragments)
	// programs are made of; all kinds otherwise.
	Only []int

	asmText
}

// asmText is the program text a generator of assembly programs writes:
// the main function, its labels, the subprograms appended after it, and
// what was made (the flaws put in), with the randomness that chooses.
type asmText struct {
	rng   *rand.Rand
	b     strings.Builder
	made  []string
	label int
	subs  []string // subprograms, appended after the main function
}

// fragments emits n fragments by emit, each of a random kind below kinds,
// or of a random one of only when it is not empty.
func (g *asmText) fragments(n int, only []int, kinds int, emit func(int)) {
	for range n {
		if len(only) > 0 {
			emit(only[g.rng.IntN(len(only))])
		} else {
			emit(g.rng.IntN(kinds))
		}
	}
}

// reset starts a new program.
func (g *asmText) reset() {
	g.b.Reset()
	g.label, g.subs, g.made = 0, nil, nil
}

// text appends the subprograms to the main function and returns the
// program's text.
func (g *asmText) text() string {
	for _, s := range g.subs {
		g.b.WriteString(s)
	}
	return g.b.String()
}

// precFlawRate is the chance, per fragment, of getting a detail wrong.
const precFlawRate = 0.2

func (g *asmText) flaw() bool {
	if g.rng.Float64() >= precFlawRate {
		return false
	}
	g.made = append(g.made, "flaw")
	return true
}

func (g *asmText) l() string {
	g.label++
	return fmt.Sprintf("L%d", g.label)
}

func (g *asmText) e(format string, args ...any) {
	fmt.Fprintf(&g.b, format, args...)
	g.b.WriteByte('\n')
}

func (g *asmText) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

// cond leaves in r0 a number the verifier cannot predict (bit 0 decides).
func (g *Precision) cond() { g.e("call 7") }

// NewPrecision returns a generator of precision-shape programs drawing
// from rng.
func NewPrecision(rng *rand.Rand) *Precision { return &Precision{asmText: asmText{rng: rng}} }

// PrecisionProgram is a program of Precision, with its assembly text.
type PrecisionProgram struct {
	HostileProgram
	Source string
}

// Program returns a new program of 1 to 4 fragments; its Flaws has an
// entry per detail got wrong (without naming it).
func (g *Precision) Program() PrecisionProgram {
	src := g.Source(1 + g.rng.IntN(4))
	prog, err := isa.Assemble(src)
	if err != nil {
		panic(fmt.Sprintf("progen: precision program does not assemble: %v\n%s", err, src))
	}
	for pc := 0; pc < len(prog); pc++ {
		if prog[pc].IsLoadImm64() {
			if prog[pc].Imm == mapMark {
				prog[pc].Src = isa.PseudoMapIdx
				prog[pc].Imm = HostileArray
			}
			pc++
		}
	}
	return PrecisionProgram{HostileProgram{Type: HostileXDP, Instructions: prog, Flaws: g.made}, src}
}

// mapMark is the immediate of the lddw Program turns into a load of
// HostileArray.
const mapMark = 0x4d4150

// Source returns the assembly text of a program of n fragments, in the
// isa.Assemble dialect, with "lddw %r1, 0x4d4150" for the map.
func (g *Precision) Source(n int) string {
	g.reset()
	g.e("mov %%r6, %%r1")
	g.lookup()
	g.e("mov %%r8, 0")
	g.e("mov %%r9, 0")
	g.fragments(n, g.Only, PrecisionFragments, g.Fragment)
	g.e("mov %%r0, 2")
	g.e("exit")
	return g.text()
}

// PrecisionFragments is how many kinds of fragment Fragment knows.
const PrecisionFragments = 10

// Fragment emits fragment i (0 <= i < PrecisionFragments).
func (g *Precision) Fragment(i int) {
	[]func(){g.errCode, g.sub32, g.mixed, g.stack, g.stride, g.diamonds, g.signed32, g.callee, g.numbers, g.helperBuf}[i]()
}

// lookup sets r7 to the value of arr at a key written in one of several
// ways; the NULL check is left out when the key is a constant 0 (and now
// and then when it is not).
func (g *Precision) lookup() {
	zero, key := true, "-4"
	switch g.rng.IntN(6) {
	case 0:
		g.e("stw [%%r10-4], 0")
	case 1:
		g.e("stdw [%%r10-8], 0")
		key = "-8"
	case 2:
		g.e("stw [%%r10-4], %d", 1+g.rng.IntN(4))
		zero = false
	case 3: // zero on one path, not on the other
		g.cond()
		g.e("stw [%%r10-4], 0")
		g.e("jset %%r0, 1, +1")
		g.e("stw [%%r10-4], 5")
		zero = false
	case 4: // a constant 0, then a store at a variable offset that may overwrite it
		g.e("stdw [%%r10-8], 0")
		g.cond()
		g.e("and %%r0, 4")
		g.e("mov %%r1, %%r10")
		g.e("add %%r1, -8")
		g.e("add %%r1, %%r0")
		g.e("stw [%%r1+0], 9")
		zero = false
	case 5: // only the low byte written
		g.e("stb [%%r10-4], 0")
		zero = false
	}
	g.e("mov %%r2, %%r10")
	g.e("add %%r2, %s", key)
	g.e("lddw %%r1, %#x", mapMark)
	g.e("call 1")
	check := true
	if zero {
		check = g.rng.IntN(4) == 0 // constkey.go: the lookup cannot fail
	} else if g.flaw() {
		check = false
	}
	if check {
		g.e("jne %%r0, 0, +2")
		g.e("mov %%r0, 0")
		g.e("exit")
	}
	g.e("mov %%r7, %%r0")
}

// access reads or writes size bytes at r1+off, r1 a map value pointer.
func (g *Precision) access(base string, off int) {
	size := []string{"b", "h", "w", "dw"}[g.rng.IntN(4)]
	if g.rng.IntN(2) == 0 {
		g.e("ldx%s %%r0, [%s%+d]", size, base, off)
	} else {
		g.e("st%s [%s%+d], 7", size, base, off)
	}
}

// inValue returns an offset for an access of up to 1 byte past r+max
// where the value r lies in [0, max]: in bounds unless flawed.
func (g *Precision) inValue(max int) int {
	off := 16 - 8 - max
	if off < 0 {
		off = 0
	}
	if g.flaw() {
		off = 16 - max - 1 + g.rng.IntN(3)
	}
	return off
}

// errCode: r8 is an error code on one path and an offset on the other,
// joined, tested by sign and used as an offset.
func (g *Precision) errCode() {
	lj, ls := g.l(), g.l()
	mask := []int{3, 7, 8}[g.rng.IntN(3)]
	g.cond()
	g.e("mov %%r8, %%r0")
	g.e("and %%r8, %d", mask)
	g.cond()
	g.e("jset %%r0, 1, %s", lj)
	code := g.pick("-22", "-1", "-4095")
	if g.rng.IntN(2) == 0 {
		g.e("mov32 %%r8, %s", code) // zero-extended: negative only as an int
	} else {
		g.e("mov %%r8, %s", code)
	}
	g.e("%s:", lj)
	g.noise("%r8")
	test := g.pick("jslt32 %r8, 0", "jslt %r8, 0", "jsgt32 %r8, 0x7fffffff", "jsle32 %r8, -1", "jgt %r8, 15")
	if g.flaw() {
		test = g.pick("jsgt32 %r8, 0", "jslt %r8, -22", "jeq %r8, -22")
	}
	g.e("%s, %s", test, ls)
	g.e("mov %%r1, %%r7")
	g.e("add %%r1, %%r8")
	g.access("%r1", g.inValue(mask))
	g.e("%s:", ls)
}

// noise sometimes writes r (which must drop facts about it) or writes
// another register, spills and fills, or calls a helper.
func (g *Precision) noise(r string) {
	switch g.rng.IntN(10) {
	case 0:
		g.e("add32 %s, 1", r)
	case 1:
		g.e("stxdw [%%r10-56], %s", r)
		g.e("ldxdw %s, [%%r10-56]", r)
	case 2:
		g.e("call 7")
	case 3:
		g.e("mov %%r3, %s", r)
		g.e("lsh %%r3, 32")
	case 4:
		g.e("stdw [%%r10-56], 1")
		g.e("lock fetch add [%%r10-56], %s", r)
	case 5:
		g.e("mov32 %s, %s", r, r)
	case 6:
		g.e("arsh %s, 1", r)
	}
}

// wide leaves in r8 a 64-bit number from the harness's bpf_ktime_get_ns,
// which returns values near the 32-bit and 64-bit sign boundaries.
func (g *Precision) wide(r string) {
	g.e("call 5")
	g.e("mov %s, %%r0", r)
}

// sub32: a signed 32-bit test of a wide number, a write (or not), the
// same test again, an access only the first test justifies.
func (g *Precision) sub32() {
	g.wide("%r8")
	la, lb := g.l(), g.l()
	c := g.pick("0", "-1", "16", "0x7fffffff", "-0x80000000")
	ops := [][2]string{{"jsgt32", "jsle32"}, {"jslt32", "jsge32"}, {"jsge32", "jslt32"}, {"jsle32", "jsgt32"}}
	op := ops[g.rng.IntN(len(ops))]
	g.e("%s %%r8, %s, %s", op[0], c, la)
	g.e("ja %s", lb)
	g.e("%s:", la)
	if g.rng.IntN(2) == 0 {
		g.noise("%r8")
	} else {
		switch g.rng.IntN(5) {
		case 0:
			g.e("lddw %%r3, 0x100000000") // a 64-bit write that keeps the low half
			g.e("add %%r8, %%r3")
		case 1:
			g.e("xor %%r8, 1")
		case 2:
			g.e("call local %s", g.subReturn())
		case 3:
			g.e("lock fetch add [%%r10-56], %%r8")
		case 4:
			g.e("mov %%r3, %%r8")
			g.e("mov %%r8, 5")
			g.e("mov %%r8, %%r3")
		}
	}
	// The negation of the first test: decided if the fact survived.
	next := op[1]
	if g.flaw() {
		next = ops[g.rng.IntN(len(ops))][0]
	}
	lok := g.l()
	g.e("%s %%r8, %s, %s", next, c, lok)
	g.e("ja %s", lb)
	g.e("%s:", lok)
	// Reached only if the fact was wrong, or the test is not the negation.
	g.e("mov %%r1, %%r7")
	g.access("%r1", 20)
	g.e("%s:", lb)
}

// subReturn adds a subprogram that returns a number in r0 and leaves r6-r9.
func (g *Precision) subReturn() string {
	name := fmt.Sprintf("S%d", len(g.subs))
	g.subs = append(g.subs, fmt.Sprintf("%s:\nmov %%r0, 3\nmov %%r2, %%r10\nexit\n", name))
	return name
}

// mixed: r9 is the map value on one path and a number, NULL or the stack
// on the other; the condition is kept in r8 or a stack slot and tested
// again before r9 is used.
func (g *Precision) mixed() {
	la, lj, ls := g.l(), g.l(), g.l()
	g.cond()
	g.e("and %%r0, 1")
	where := g.pick("%r8", "[%r10-48]")
	if where == "%r8" {
		g.e("mov %%r8, %%r0")
	} else {
		g.e("stxdw [%%r10-48], %%r0")
	}
	g.e("jeq %%r0, 0, %s", la)
	g.e("mov %%r9, %%r7")
	g.e("add %%r9, %d", g.rng.IntN(8))
	g.e("ja %s", lj)
	g.e("%s:", la)
	switch g.rng.IntN(4) {
	case 0:
		g.e("mov %%r9, 0")
	case 1:
		g.e("mov %%r9, 64")
	case 2:
		g.e("mov %%r9, %%r10")
		g.e("add %%r9, -48")
	case 3:
		g.e("mov %%r9, %%r7")
		g.e("add %%r9, 12")
	}
	g.e("%s:", lj)
	if g.rng.IntN(3) == 0 {
		g.e("stxdw [%%r10-40], %%r9")
		g.e("ldxdw %%r9, [%%r10-40]")
	}
	if where == "%r8" {
		g.e("mov %%r0, %%r8")
	} else {
		g.e("ldxdw %%r0, [%%r10-48]")
	}
	if g.flaw() {
		g.e("jne %%r0, 0, %s", ls)
	} else {
		g.e("jeq %%r0, 0, %s", ls)
	}
	g.access("%r9", g.inValue(7))
	g.e("%s:", ls)
}

// stack: bytes of [-32, -8) written on some paths, a pointer spilled on
// some, then read by a load at a fixed or variable offset, or by the
// lookup helper as its key; what was read is stored in the map value.
func (g *Precision) stack() {
	for i := 0; i < 1+g.rng.IntN(3); i++ {
		ls := g.l()
		g.cond()
		g.e("jset %%r0, 1, %s", ls)
		size := []int{1, 2, 4, 8}[g.rng.IntN(4)]
		off := -32 + size*g.rng.IntN(24/size)
		sfx := map[int]string{1: "b", 2: "h", 4: "w", 8: "dw"}[size]
		switch {
		case size == 8 && g.rng.IntN(3) == 0:
			g.e("stxdw [%%r10%+d], %%r7", off)
		case g.rng.IntN(2) == 0:
			g.e("st%s [%%r10%+d], %d", sfx, off, g.rng.IntN(100))
		default:
			g.e("stx%s [%%r10%+d], %%r0", sfx, off)
		}
		g.e("%s:", ls)
	}
	switch g.rng.IntN(3) {
	case 0:
		size := []int{1, 2, 4, 8}[g.rng.IntN(4)]
		off := -32 + size*g.rng.IntN(24/size)
		g.e("ldx%s %%r0, [%%r10%+d]", map[int]string{1: "b", 2: "h", 4: "w", 8: "dw"}[size], off)
		g.e("stxdw [%%r7+8], %%r0")
	case 1:
		g.cond()
		g.e("and %%r0, %s", g.pick("8", "16", "24", "12"))
		g.e("mov %%r1, %%r10")
		g.e("add %%r1, -32")
		g.e("add %%r1, %%r0")
		g.e("ldxdw %%r0, [%%r1+0]")
		g.e("stxdw [%%r7+8], %%r0")
	case 2:
		g.e("mov %%r2, %%r10")
		g.e("add %%r2, %d", -32+4*g.rng.IntN(6))
		g.e("lddw %%r1, %#x", mapMark)
		g.e("call 1")
		ls := g.l()
		g.e("jeq %%r0, 0, %s", ls)
		g.e("ldxdw %%r1, [%%r0+0]")
		g.e("stxdw [%%r7+8], %%r1")
		g.e("%s:", ls)
	}
}

// stride: a counted loop stepping a pointer through the map value,
// entered with r9 a pointer on one path and a number on the other (two
// entry groups), its bound one trip too many when flawed.
func (g *Precision) stride() {
	st := []int{1, 2, 4}[g.rng.IntN(3)]
	n := 16 / st
	size := map[int]string{1: "b", 2: "h", 4: "w"}[st]
	if g.flaw() {
		n++
	}
	lh, lj, la := g.l(), g.l(), g.l()
	step := fmt.Sprint(st)
	g.cond()
	g.e("mov %%r3, %d", st)
	g.e("jset %%r0, 1, %s", la)
	g.e("mov %%r9, 0")
	if g.rng.IntN(3) == 0 {
		g.e("mov %%r3, %d", st*2) // the other group steps further
	}
	g.e("ja %s", lj)
	g.e("%s:", la)
	g.e("mov %%r9, %%r7")
	g.e("%s:", lj)
	if g.rng.IntN(3) == 0 {
		step = "%r3"
	}
	g.e("mov %%r1, %%r7")
	if g.rng.IntN(2) == 0 {
		g.e("mov %%r2, 0")
	} else {
		g.e("mov32 %%r2, 0")
	}
	g.e("%s:", lh)
	if g.rng.IntN(2) == 0 {
		g.e("ldx%s %%r0, [%%r1+0]", size)
	} else {
		g.e("st%s [%%r1+0], 1", size)
	}
	g.e("add %%r1, %s", step)
	if g.rng.IntN(2) == 0 {
		g.e("add %%r2, 1")
	} else {
		g.e("add32 %%r2, 1")
	}
	switch g.rng.IntN(3) {
	case 0:
		g.e("jlt %%r2, %d, %s", n, lh)
	case 1:
		g.e("jne %%r2, %d, %s", n, lh)
	case 2:
		g.e("jslt32 %%r2, %d, %s", n, lh)
	}
	ls := g.l()
	g.e("jeq %%r9, 0, %s", ls)
	g.e("ldxb %%r0, [%%r9+0]")
	g.e("%s:", ls)
}

// diamonds: many conditions in a row, each leaving a pointer or a number
// in its own stack slot, then one of them tested again and used.
func (g *Precision) diamonds() {
	k := 10 + g.rng.IntN(10)
	pick := g.rng.IntN(k)
	for i := 0; i < k; i++ {
		la, lj := g.l(), g.l()
		g.cond()
		g.e("and %%r0, 1")
		if i == pick {
			g.e("mov %%r8, %%r0")
		}
		off := -512 + 8*i
		g.e("jeq %%r0, 0, %s", la)
		g.e("stxdw [%%r10%+d], %%r7", off)
		g.e("ja %s", lj)
		g.e("%s:", la)
		g.e("stdw [%%r10%+d], %d", off, g.rng.IntN(3))
		g.e("%s:", lj)
	}
	ls := g.l()
	if g.flaw() {
		g.e("jne %%r8, 0, %s", ls)
	} else {
		g.e("jeq %%r8, 0, %s", ls)
	}
	g.e("ldxdw %%r1, [%%r10%+d]", -512+8*pick)
	g.access("%r1", g.inValue(0))
	g.e("%s:", ls)
}

// signed32: a zero-extended 32-bit value (an int) tested by sign as an
// int, then bounded and used as an offset.
func (g *Precision) signed32() {
	ls := g.l()
	if g.rng.IntN(2) == 0 {
		g.wide("%r0")
	} else {
		g.cond()
	}
	g.e("mov32 %%r8, %%r0")
	g.e("%s %%r8, 0, %s", g.pick("jslt32", "jsle32"), ls)
	bound := 8
	if g.flaw() {
		bound = 9 + g.rng.IntN(8)
	}
	g.e("%s %%r8, %d, %s", g.pick("jsgt32", "jgt"), bound, ls)
	g.e("mov %%r1, %%r7")
	g.e("add %%r1, %%r8")
	g.access("%r1", 16-8-8)
	g.e("%s:", ls)
}

// callee: a subprogram writes a number or a pointer through a pointer to
// the caller's stack on some paths, or returns a pointer on one path and
// a number on the other; the caller reads what it left.
func (g *Precision) callee() {
	name := fmt.Sprintf("S%d", len(g.subs))
	var s strings.Builder
	fmt.Fprintf(&s, "%s:\n", name)
	ls := fmt.Sprintf("%s_skip", name)
	fmt.Fprintf(&s, "mov %%r6, %%r1\ncall 7\njset %%r0, 1, %s\n", ls)
	if g.rng.IntN(3) == 0 {
		fmt.Fprintf(&s, "stxdw [%%r6+0], %%r10\n") // a pointer to its own frame: refused
	} else {
		fmt.Fprintf(&s, "stdw [%%r6+0], %d\n", g.rng.IntN(8))
	}
	fmt.Fprintf(&s, "%s:\nmov %%r0, 0\nexit\n", ls)
	g.subs = append(g.subs, s.String())
	g.e("mov %%r1, %%r10")
	g.e("add %%r1, -64")
	if g.rng.IntN(2) == 0 {
		g.e("stdw [%%r10-64], 1")
	}
	g.e("call local %s", name)
	g.e("ldxdw %%r1, [%%r10-64]")
	if g.rng.IntN(2) == 0 {
		g.e("and %%r1, 7")
		g.e("add %%r1, %%r7")
		g.access("%r1", g.inValue(7))
	} else {
		g.e("stxdw [%%r7+0], %%r1")
	}
}

// numbers: two wide numbers the verifier cannot predict, a random chain of
// ALU operations and conditional jumps (64- and 32-bit, signed and
// unsigned, against constants and each other) that refine them, then a
// bounds check and an access at the result. Every refinement is checked
// against the concrete values by the containment check.
func (g *Precision) numbers() {
	g.wide("%r8")
	g.wide("%r9")
	var pending []string // labels to place
	for i := 0; i < 4+g.rng.IntN(8); i++ {
		if len(pending) > 0 && g.rng.IntN(3) == 0 {
			g.e("%s:", pending[0])
			pending = pending[1:]
		}
		dst := g.pick("%r8", "%r8", "%r9")
		if g.rng.IntN(2) == 0 {
			l := g.l()
			op := g.pick("jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset")
			if g.rng.IntN(2) == 0 {
				op += "32"
			}
			src := g.pick("%r8", "%r9", "0", "1", "-1", "15", "0x7fffffff", "-0x80000000", "0xffff", "-22")
			if src == dst {
				src = "7"
			}
			g.e("%s %s, %s, %s", op, dst, src, l)
			pending = append(pending, l)
			continue
		}
		op := g.pick("add", "sub", "and", "or", "xor", "lsh", "rsh", "arsh", "mul", "mov")
		if g.rng.IntN(3) == 0 {
			op += "32"
		}
		var src string
		switch {
		case strings.HasPrefix(op, "lsh") || strings.HasPrefix(op, "rsh") || strings.HasPrefix(op, "arsh"):
			src = fmt.Sprint(g.rng.IntN(64))
			if strings.HasSuffix(op, "32") {
				src = fmt.Sprint(g.rng.IntN(32))
			}
		case strings.HasPrefix(op, "mov"):
			src = g.pick("%r8", "%r9")
		default:
			src = g.pick("%r8", "%r9", "1", "-1", "0xff", "0x7fffffff", "-0x80000000", "3")
		}
		if src == dst && strings.HasPrefix(op, "mov") {
			src = g.pick("%r8", "%r9")
		}
		g.e("%s %s, %s", op, dst, src)
	}
	for _, l := range pending {
		g.e("%s:", l)
	}
	ls := g.l()
	bound := 15
	if g.flaw() {
		bound = 16
	}
	g.e("%s %%r8, %d, %s", g.pick("jgt", "jgt32", "jsgt"), bound, ls)
	if g.rng.IntN(2) == 0 {
		g.e("jslt %%r8, 0, %s", ls)
	}
	g.e("mov %%r1, %%r7")
	g.e("add %%r1, %%r8")
	g.e("ldxb %%r0, [%%r1+0]")
	g.e("%s:", ls)
}

// helperBuf: a pointer spilled at r10-24 on some paths, then helpers given
// a buffer over it that they write (or may fail to write): bpf_check_mtu's
// mtu_len, bpf_xdp_load_bytes, bpf_strtol's result; then the 8 or 4 bytes
// are loaded and stored in the map value. A helper that leaves a pointer
// the verifier counts as overwritten leaks it as a number (the
// containment check's leak check reports one in a register).
func (g *Precision) helperBuf() {
	ls, lj := g.l(), g.l()
	g.cond()
	g.e("jset %%r0, 1, %s", ls)
	g.e("stxdw [%%r10-24], %s", g.pick("%r7", "%r10"))
	g.e("ja %s", lj)
	g.e("%s:", ls)
	g.e("stdw [%%r10-24], 5")
	g.e("%s:", lj)
	for _, off := range [][]int{{-24}, {-20}, {-24, -20}, {-24, -20}}[g.rng.IntN(4)] {
		switch g.rng.IntN(3) {
		case 0: // bpf_check_mtu(ctx, ifindex, mtu_len, len_diff, flags)
			g.e("mov %%r1, %%r6")
			g.e("mov %%r2, %s", g.pick("0", "1", "0xdead"))
			g.e("mov %%r3, %%r10")
			g.e("add %%r3, %d", off)
			g.e("mov %%r4, 0")
			g.e("mov %%r5, %s", g.pick("0", "0", "1"))
			g.e("call 163")
		case 1: // bpf_xdp_load_bytes(ctx, offset, buf, len)
			g.e("mov %%r1, %%r6")
			g.e("mov %%r2, %s", g.pick("0", "2", "1000"))
			g.e("mov %%r3, %%r10")
			g.e("add %%r3, %d", off)
			g.e("mov %%r4, %d", -16-off)
			g.e("call 189")
		case 2: // bpf_strtol(buf, len, flags, res) on "12" or "x"
			g.e("sth [%%r10-40], %s", g.pick("0x3231", "0x78"))
			g.e("mov %%r1, %%r10")
			g.e("add %%r1, -40")
			g.e("mov %%r2, 2")
			g.e("mov %%r3, 0")
			g.e("mov %%r4, %%r10")
			g.e("add %%r4, %d", off&^7)
			g.e("call 105")
		}
	}
	if g.rng.IntN(2) == 0 {
		g.e("ldxdw %%r0, [%%r10-24]")
	} else {
		g.e("ldxw %%r0, [%%r10%s]", g.pick("-24", "-20"))
	}
	g.e("stxdw [%%r7+8], %%r0")
}
