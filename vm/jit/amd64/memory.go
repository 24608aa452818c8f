package amd64

import (
	"fmt"
	"math/bits"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// loadInsn emits ldx and ldxs. Loads narrower than 64 bits zero-extend
// (movzx, or a 32-bit mov) or sign-extend (movsx).
func (c *compiler) loadInsn(pc int, ins isa.Instruction) {
	a := &c.a
	d, base, off := bpfReg[ins.Dst], bpfReg[ins.Src], int32(ins.Offset)
	size := ins.Opcode.Size().Bytes()
	c.check(pc, ins.Src, off, size, false, false)
	sx := ins.Opcode.Mode() == isa.ModeMEMSX
	switch {
	case size == 8:
		a.load(true, d, base, off)
	case size == 4 && sx:
		a.rm(0, true, false, []byte{0x63}, d, base, off) // movsxd
	case size == 4:
		a.load(false, d, base, off)
	case size == 2 && sx:
		a.rm(0, true, false, []byte{0x0f, 0xbf}, d, base, off)
	case size == 2:
		a.rm(0, false, false, []byte{0x0f, 0xb7}, d, base, off)
	case sx:
		a.rm(0, true, false, []byte{0x0f, 0xbe}, d, base, off)
	default:
		a.rm(0, false, false, []byte{0x0f, 0xb6}, d, base, off)
	}
}

// storeInsn emits st (immediate) and stx (register).
func (c *compiler) storeInsn(pc int, ins isa.Instruction) {
	a := &c.a
	base, off := bpfReg[ins.Dst], int32(ins.Offset)
	size := ins.Opcode.Size().Bytes()
	c.check(pc, ins.Dst, off, size, true, false)
	if ins.Opcode.Class() == isa.ClassSTX {
		s := bpfReg[ins.Src]
		switch size {
		case 8:
			a.store(true, base, off, s)
		case 4:
			a.store(false, base, off, s)
		case 2:
			a.rm(0x66, false, false, []byte{0x89}, s, base, off)
		default:
			a.rm(0, false, true, []byte{0x88}, s, base, off)
		}
		return
	}
	switch size {
	case 8, 4: // the 64-bit form sign-extends the immediate, as BPF does
		a.rm(0, size == 8, false, []byte{0xc7}, 0, base, off)
		a.u32(uint32(ins.Imm))
	case 2:
		a.rm(0x66, false, false, []byte{0xc7}, 0, base, off)
		a.b(byte(ins.Imm), byte(ins.Imm>>8))
	default:
		a.rm(0, false, false, []byte{0xc6}, 0, base, off)
		a.b(byte(ins.Imm))
	}
}

// atomic emits the atomic read-modify-write instructions. add, or, and, xor
// without fetch, fetch-add, xchg and cmpxchg map to one locked x86
// instruction; fetch-or/and/xor become a cmpxchg loop.
func (c *compiler) atomic(pc int, ins isa.Instruction) error {
	a := &c.a
	base, off := bpfReg[ins.Dst], int32(ins.Offset)
	w := ins.Opcode.Size() == isa.SizeDW
	size := 4
	if w {
		size = 8
	}
	s := bpfReg[ins.Src]
	c.check(pc, ins.Dst, off, size, true, true)
	const lock = 0xf0
	switch ins.Imm {
	case isa.AtomicAdd:
		a.rm(lock, w, false, []byte{opAdd}, s, base, off)
	case isa.AtomicOr:
		a.rm(lock, w, false, []byte{opOr}, s, base, off)
	case isa.AtomicAnd:
		a.rm(lock, w, false, []byte{opAnd}, s, base, off)
	case isa.AtomicXor:
		a.rm(lock, w, false, []byte{opXor}, s, base, off)
	case isa.AtomicAdd | isa.AtomicFetch:
		a.rm(lock, w, false, []byte{0x0f, 0xc1}, s, base, off) // lock xadd
	case isa.AtomicXchg:
		a.rm(0, w, false, []byte{0x87}, s, base, off) // xchg is always locked
	case isa.AtomicCmpXchg:
		// Compares rax (r0) with memory and leaves the old value in rax.
		a.rm(lock, w, false, []byte{0x0f, 0xb1}, s, base, off)
		if !w { // a successful 32-bit cmpxchg does not write eax
			a.movRR(false, rax, rax)
		}
	case isa.AtomicOr | isa.AtomicFetch, isa.AtomicAnd | isa.AtomicFetch, isa.AtomicXor | isa.AtomicFetch:
		_, op := groupOne(isa.ALUOp(ins.Imm &^ isa.AtomicFetch))
		// tmp1 = address, budgetReg (saved) = operand, rax = old value
		// (r0 saved unless it is the operand), tmp2 = new value.
		a.lea(tmp1, base, off)
		a.store(true, ctxReg, offSpill+8, budgetReg)
		a.movRR(w, budgetReg, s)
		if s != rax {
			a.store(true, ctxReg, offSpill+16, rax)
		}
		a.load(w, rax, tmp1, 0)
		loop := a.newLabel()
		a.bind(loop)
		a.movRR(w, tmp2, rax)
		a.aluRR(op, w, tmp2, budgetReg)
		a.rm(lock, w, false, []byte{0x0f, 0xb1}, tmp2, tmp1, 0)
		a.jcc(ccNE, loop)
		if s != rax || !w {
			a.movRR(w, s, rax)
		}
		if s != rax {
			a.load(true, rax, ctxReg, offSpill+16)
		}
		a.load(true, budgetReg, ctxReg, offSpill+8)
	default:
		return &vm.CompileError{PC: pc, Err: fmt.Errorf("%w: atomic operation %#x", vm.ErrUnsupported, ins.Imm)}
	}
	return nil
}

// check emits, in checked mode, the test that an access of size bytes at
// r[base]+off lies in the live stack frames [r10-512, top) (and is aligned,
// for atomics); anything else exits to Run, which checks the run's regions
// like the interpreter's driver and resumes at the access or stops the run.
// Before leaving, the code searches the table of the run's first regions
// (regions.go).
func (c *compiler) check(pc int, base isa.Register, off int32, size int, write, atomic bool) {
	if !c.checked {
		return
	}
	if base == isa.R10 && !atomic && off >= -vm.StackSize && off+int32(size) <= 0 {
		return // inside the current frame whatever r10 is
	}
	a := &c.a
	slow, access := a.newLabel(), a.newLabel()
	a.lea(tmp2, bpfReg[base], off)
	a.lea(tmp1, rbp, -vm.StackSize)
	a.aluRR(opCmp, true, tmp2, tmp1)
	a.jcc(ccB, slow)
	a.rm(0, true, false, []byte{0x3b}, tmp2, ctxReg, offLimit+8*int32(bits.TrailingZeros(uint(size)))) // cmp tmp2, limit
	a.jcc(ccA, slow)
	if atomic {
		a.testRI(false, tmp2, int32(size-1))
		a.jcc(ccNE, slow)
	}
	a.bind(access)
	x := exitInfo{kind: exitCheck, pc: int32(pc), partial: c.pending(pc), size: uint8(size), write: write, atomic: atomic}
	c.stub(slow, func() {
		miss := a.newLabel()
		c.regionCheck(size, write, atomic, access, miss)
		a.bind(miss)
		a.store(true, ctxReg, offAddr, tmp2)
		c.exit(x, access)
	})
}
