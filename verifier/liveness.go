package verifier

import (
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// Liveness of registers and stack slots, per block of a function: what
// the partition of a block's input (paths.go) compares.

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
// kept in a register), or a BPF-to-BPF call, makes every slot live there.
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
			use, def := a.regUseDef(ins)
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
// may let anything read any slot, and a BPF-to-BPF call may read any
// through its pointer arguments: all are used. (Helpers read only bytes,
// never pointers, through theirs: a slot's pointer facts do not matter
// to them.)
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
	if readsR10(ins) || ins.IsLocalCall() {
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

// regUseDef is regUseDef with the arguments a helper's prototype says it
// reads (a dead r3 before a two-argument helper is no reason to split).
func (a *analyzer) regUseDef(ins isa.Instruction) (use, def uint16) {
	use, def = regUseDef(ins)
	if ins.Opcode == isa.OpCall && ins.Src == 0 && a.opts.ABI != nil {
		if proto, ok := a.opts.ABI.HelperByID(platform.HelperID(ins.Imm)); ok && proto.NumArgs() <= 5 {
			use = uint16(1)<<(proto.NumArgs()+1) - 2
		}
	}
	return use, def
}

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
