package progen

import "github.com/bpfhost/bpfhost/isa"

// frameSize is the size of the stack frame r10 points to the top of.
const frameSize = 512

// stackSet is a set of bytes of the frame; bit i stands for r10-512+i.
type stackSet [frameSize / 64]uint64

func (s *stackSet) add(off, n int) {
	for i := frameSize + off; i < frameSize+off+n; i++ {
		s[i/64] |= 1 << (i % 64)
	}
}

func (s *stackSet) has(off, n int) bool {
	for i := frameSize + off; i < frameSize+off+n; i++ {
		if s[i/64]&(1<<(i%64)) == 0 {
			return false
		}
	}
	return true
}

func (s stackSet) intersect(t stackSet) stackSet {
	for i := range s {
		s[i] &= t[i]
	}
	return s
}

var sizes = []isa.Size{isa.SizeB, isa.SizeH, isa.SizeW, isa.SizeDW}

// slot returns a random offset in the window aligned to n bytes.
func (g *Generator) slot(n int) int {
	return -g.window + n*g.rng.IntN(g.window/n)
}

// writtenSlot returns a random offset in the window, aligned to n, whose n
// bytes are all written; ok is false if there is none.
func (g *Generator) writtenSlot(n int) (off int, ok bool) {
	var offs []int
	for o := -g.window; o <= -n; o += n {
		if g.written.has(o, n) {
			offs = append(offs, o)
		}
	}
	if len(offs) == 0 {
		return 0, false
	}
	return offs[g.rng.IntN(len(offs))], true
}

// store emits st or stx of a random size at an aligned offset in the window.
func (g *Generator) store() bool {
	if !g.fits(1) {
		return false
	}
	size := sizes[g.rng.IntN(len(sizes))]
	off := g.slot(size.Bytes())
	ins := isa.Instruction{Dst: isa.RFP, Offset: int16(off)}
	if g.rng.IntN(3) == 0 {
		ins.Opcode = isa.Opcode(isa.ClassST) | isa.Opcode(size) | isa.Opcode(isa.ModeMEM)
		ins.Imm = g.imm32()
	} else {
		ins.Opcode = isa.Opcode(isa.ClassSTX) | isa.Opcode(size) | isa.Opcode(isa.ModeMEM)
		ins.Src = g.src()
	}
	g.emit(ins)
	g.written.add(off, size.Bytes())
	return true
}

// load emits ldx (or, with V4, a sign-extending ldxs) of written bytes.
func (g *Generator) load() bool {
	if !g.fits(1) {
		return false
	}
	size := sizes[g.rng.IntN(len(sizes))]
	off, ok := g.writtenSlot(size.Bytes())
	if !ok {
		return false
	}
	mode := isa.ModeMEM
	if g.opts.V4 && size != isa.SizeDW && g.rng.IntN(2) == 0 {
		mode = isa.ModeMEMSX
	}
	g.emit(isa.Instruction{
		Opcode: isa.Opcode(isa.ClassLDX) | isa.Opcode(size) | isa.Opcode(mode),
		Dst:    g.dst(), Src: isa.RFP, Offset: int16(off),
	})
	return true
}

// Atomic operations, with whether they write their src register.
var atomicOps = []struct {
	imm   int32
	fetch bool
}{
	{isa.AtomicAdd, false}, {isa.AtomicOr, false}, {isa.AtomicAnd, false}, {isa.AtomicXor, false},
	{isa.AtomicAdd | isa.AtomicFetch, true}, {isa.AtomicOr | isa.AtomicFetch, true},
	{isa.AtomicAnd | isa.AtomicFetch, true}, {isa.AtomicXor | isa.AtomicFetch, true},
	{isa.AtomicXchg, true}, {isa.AtomicCmpXchg, false}, // cmpxchg writes r0, not src
}

// atomic emits a 32- or 64-bit atomic operation on written, aligned bytes.
// Fetching forms write src and cmpxchg writes r0, so those registers must not
// be loop counters (r0 never is).
func (g *Generator) atomic() bool {
	if !g.fits(1) {
		return false
	}
	size := isa.SizeDW
	if g.rng.IntN(2) == 0 {
		size = isa.SizeW
	}
	off, ok := g.writtenSlot(size.Bytes())
	if !ok {
		return false
	}
	op := atomicOps[g.rng.IntN(len(atomicOps))]
	src := g.src()
	if op.fetch {
		src = g.dst()
	}
	g.emit(isa.Instruction{
		Opcode: isa.Opcode(isa.ClassSTX) | isa.Opcode(size) | isa.Opcode(isa.ModeATOMIC),
		Dst:    isa.RFP, Src: src, Offset: int16(off), Imm: op.imm,
	})
	return true
}
