package amd64

import (
	"fmt"
	"math/bits"
)

// Hash map lookups in generated code (InlineHash). The code follows
// maps.HashInline step by step: it hashes the key as the map does,
// unrolled for the key size, reads the bucket's chain as a seqlock reader
// (the stripe's sequence counter must be even and unchanged across the
// walk), compares hash and key a word at a time (stored keys are padded
// with zeros, so the last partial word compares whole), and computes the
// value's address. Whenever a writer may have got in the way (odd or
// changed counter, an index out of range, a walk longer than the map) it
// leaves for Go through the lookup exit, which calls the map's LookupPtr:
// the result is always LookupPtr's.
//
// Registers: mul needs rax and rdx, which hold r0 (the result anyway) and
// r3; the walk also uses rcx (r4) and r8 (r5). They are saved in
// context.spill and restored on every way out, so that only r0 changes, as
// with the helper. While the code runs, context.regs is free (it holds
// registers only while Go runs): regs[0] keeps the address of the
// sequence counter, regs[1] the key's last partial word.
//
//	rax  hash, then element index e, then the value's address
//	rcx  the key's hash (u32)
//	rdx  the sequence count read before the walk
//	r8   elements the walk may still visit
//	r10  element record address
//	r11  scratch
const (
	offSeqAddr  = offRegs     // scratch: address of the stripe's counter
	offTailWord = offRegs + 8 // scratch: the key's last partial word
)

// validateHash checks an InlineHash description: sizes and strides the
// code's arithmetic relies on, and addresses that exist.
func (m *InlineMap) validateHash() error {
	h := &m.Hash
	switch {
	case m.Elem == nil:
		return fmt.Errorf("hash map without Elem (its slow path)")
	case m.KeySize == 0 || m.KeySize > MaxInlineKey:
		return fmt.Errorf("hash map with key size %d", m.KeySize)
	case uint64(h.Stride) != 8+(uint64(m.KeySize)+7)&^7:
		return fmt.Errorf("hash map with key size %d and record stride %d", m.KeySize, h.Stride)
	case h.N == 0 || h.N >= 1<<31:
		return fmt.Errorf("hash map with %d elements", h.N)
	case h.Mask&(h.Mask+1) != 0 || h.StripeMask&(h.StripeMask+1) != 0:
		return fmt.Errorf("hash map with bucket mask %#x and stripe mask %#x", h.Mask, h.StripeMask)
	case h.Heads == 0 || h.Elems == 0 || h.Stripes == 0 || h.Values == 0 || h.LRU && h.Refs == 0:
		return fmt.Errorf("hash map without memory (heads %#x, elements %#x, stripes %#x, values %#x, refs %#x)", h.Heads, h.Elems, h.Stripes, h.Values, h.Refs)
	case h.StripeSize == 0 || h.StripeSize >= 1<<31 || h.SeqOffset%4 != 0 || uint64(h.SeqOffset)+4 > uint64(h.StripeSize):
		return fmt.Errorf("hash map with stripes of %d bytes, counter at %d", h.StripeSize, h.SeqOffset)
	case h.ValueStride == 0 || h.ValueStride%8 != 0 || h.ValueStride >= 1<<31:
		return fmt.Errorf("hash map with value stride %d", h.ValueStride)
	}
	if h.PerCPU {
		if m.Slots <= 0 || m.Slots >= 1<<31 {
			return fmt.Errorf("per-CPU hash map with %d slots", m.Slots)
		}
		if hi, lo := bits.Mul64(uint64(h.N), uint64(h.ValueStride)); hi != 0 || h.SlotStride < lo {
			return fmt.Errorf("per-CPU hash map of %d x %d bytes per slot with slot stride %d", h.N, h.ValueStride, h.SlotStride)
		}
	}
	return nil
}

// hashLookup emits the lookup of the key at r2 in an InlineHash map,
// leaving the value's address or NULL in r0 and continuing at done. The
// slow path leaves through a lookup exit that resumes at done.
func (c *compiler) hashLookup(pc int, m *InlineMap, done label) {
	a := &c.a
	h := &m.Hash
	key := bpfReg[2]
	size := int(m.KeySize)
	words := size / 8    // whole 8-byte words
	rest := size % 8     // bytes of the last partial word
	null := a.newLabel() // NULL before anything is saved
	slow := a.newLabel() // leave for LookupPtr
	end := a.newLabel()  // the walk met an index of at least N
	next := a.newLabel() // follow the link of the element at r10
	loop := a.newLabel()

	if h.PerCPU { // LookupPtr's first test: no value for this slot
		a.load(true, tmp1, ctxReg, offSlot)
		a.aluRI(extCmp, true, tmp1, int32(m.Slots))
		a.jcc(ccAE, null)
	}
	a.store(true, ctxReg, offSpill, rdx)
	a.store(true, ctxReg, offSpill+8, rcx)
	a.store(true, ctxReg, offSpill+16, r8)

	// The hash, as maps.HashInline defines it.
	a.movImm(rax, h.Seed^uint64(size)*h.Mult[0])
	for i := range words {
		a.load(true, tmp1, key, int32(8*i))
		a.aluRR(opXor, true, rax, tmp1)
		c.mix(h.Mult[1])
	}
	if rest > 0 {
		c.keyTail(tmp1, tmp2, key, int32(8*words), rest)
		a.store(true, ctxReg, offTailWord, tmp1)
		a.aluRR(opXor, true, rax, tmp1)
		c.mix(h.Mult[2])
	}
	c.mix(h.Mult[0] ^ h.Mult[2])

	// The bucket and its stripe's counter, which must be even.
	a.movRR(false, rcx, rax)
	a.aluRI(extAnd, false, rax, int32(h.Mask))
	a.movRR(false, tmp2, rax)
	a.aluRI(extAnd, false, tmp2, int32(h.StripeMask))
	c.scale(tmp2, uint64(h.StripeSize))
	a.movImm(tmp1, h.Stripes+uint64(h.SeqOffset))
	a.aluRR(opAdd, true, tmp2, tmp1)
	a.store(true, ctxReg, offSeqAddr, tmp2)
	a.load(false, rdx, tmp2, 0)
	a.testRI(false, rdx, 1)
	a.jcc(ccNE, slow)

	// The walk: e = heads[b]; at most N elements.
	a.movImm(tmp1, h.Heads)
	a.rmx(0, false, []byte{0x8b}, rax, tmp1, rax, 2, 0) // mov eax, [r10+rax*4]
	a.movImm32(r8, h.N)
	a.bind(loop)
	a.aluRI(extCmp, false, rax, int32(h.N))
	a.jcc(ccAE, end)
	a.aluRI(extSub, false, r8, 1)
	a.jcc(ccB, slow)
	a.rr(0, true, false, []byte{0x69}, tmp1, rax) // imul r10, rax, stride
	a.u32(h.Stride)
	a.movImm(tmp2, h.Elems)
	a.aluRR(opAdd, true, tmp1, tmp2)
	a.rm(0, false, false, []byte{0x3b}, rcx, tmp1, 0) // cmp ecx, [r10]: the hash
	a.jcc(ccNE, next)
	for i := range words {
		a.load(true, tmp2, key, int32(8*i))
		a.rm(0, true, false, []byte{0x3b}, tmp2, tmp1, int32(8+8*i))
		a.jcc(ccNE, next)
	}
	if rest > 0 {
		a.load(true, tmp2, ctxReg, offTailWord)
		a.rm(0, true, false, []byte{0x3b}, tmp2, tmp1, int32(8+8*words))
		a.jcc(ccNE, next)
	}

	// Found e: valid if the counter has not moved.
	c.seqCheck(slow)
	if h.LRU { // maps' touch: set the reference word unless it is set
		skip := a.newLabel()
		a.movImm(tmp1, h.Refs)
		a.rmx(0, false, []byte{0x83}, extCmp, tmp1, rax, 2, 0) // cmp dword [r10+rax*4], 0
		a.b(0)
		a.jcc(ccNE, skip)
		a.rmx(0, false, []byte{0xc7}, 0, tmp1, rax, 2, 0) // mov dword [r10+rax*4], 1
		a.u32(1)
		a.bind(skip)
	}
	c.mulConst(rax, uint64(h.ValueStride), tmp1)
	a.movImm(tmp1, h.Values)
	a.aluRR(opAdd, true, rax, tmp1)
	if h.PerCPU {
		a.load(true, tmp1, ctxReg, offSlot)
		c.mulConst(tmp1, h.SlotStride, tmp2)
		a.aluRR(opAdd, true, rax, tmp1)
	}
	c.restoreHashRegs()

	x := exitInfo{kind: exitLookup, pc: int32(pc), partial: c.pending(pc), arg: int32(len(c.lookups))}
	c.lookups = append(c.lookups, elemLookup{elem: m.Elem, keySize: size})
	c.stub(next, func() {
		a.load(false, rax, tmp1, 4)
		a.jmp(loop)
	})
	c.stub(end, func() { // -1 ends the chain: not found, if the counter agrees
		a.aluRI(extCmp, false, rax, -1)
		a.jcc(ccNE, slow)
		c.seqCheck(slow)
		c.restoreHashRegs()
		a.aluRR(opXor, false, rax, rax)
		a.jmp(done)
	})
	c.stub(slow, func() {
		c.restoreHashRegs()
		c.exit(x, done)
	})
	if h.PerCPU {
		c.stub(null, func() {
			a.aluRR(opXor, false, rax, rax)
			a.jmp(done)
		})
	}
}

// mix emits rax = hi ^ lo of the 128-bit product rax*k (clobbers rdx and
// tmp1).
func (c *compiler) mix(k uint64) {
	a := &c.a
	a.movImm(tmp1, k)
	a.unary(extMul, true, tmp1)
	a.aluRR(opXor, true, rax, rdx)
}

// keyTail loads the n (1-7) bytes at [key+off] into dst, zero-extended,
// without reading past them; tmp is scratch.
func (c *compiler) keyTail(dst, tmp, key reg, off int32, n int) {
	a := &c.a
	at := int32(0)
	for _, part := range []int{4, 2, 1} {
		if n&part == 0 {
			continue
		}
		r := dst
		if at > 0 {
			r = tmp
		}
		switch part {
		case 4:
			a.load(false, r, key, off+at)
		case 2:
			a.rm(0, false, false, []byte{0x0f, 0xb7}, r, key, off+at) // movzx
		default:
			a.rm(0, false, false, []byte{0x0f, 0xb6}, r, key, off+at)
		}
		if at > 0 {
			a.shiftRI(0, extShl, true, tmp, uint8(8*at))
			a.aluRR(opOr, true, dst, tmp)
		}
		at += int32(part)
	}
}

// seqCheck jumps to slow unless the stripe's counter still holds rdx.
func (c *compiler) seqCheck(slow label) {
	a := &c.a
	a.load(true, tmp2, ctxReg, offSeqAddr)
	a.rm(0, false, false, []byte{0x3b}, rdx, tmp2, 0) // cmp edx, [r11]
	a.jcc(ccNE, slow)
}

// restoreHashRegs restores the BPF registers hashLookup borrows.
func (c *compiler) restoreHashRegs() {
	a := &c.a
	a.load(true, rdx, ctxReg, offSpill)
	a.load(true, rcx, ctxReg, offSpill+8)
	a.load(true, r8, ctxReg, offSpill+16)
}

// mulConst multiplies r by n (64-bit); tmp is scratch for factors that do
// not fit an immediate.
func (c *compiler) mulConst(r reg, n uint64, tmp reg) {
	if n&(n-1) == 0 || n < 1<<31 {
		c.scale(r, n)
		return
	}
	c.a.movImm(tmp, n)
	c.a.rr(0, true, false, []byte{0x0f, 0xaf}, r, tmp) // imul r, tmp
}
