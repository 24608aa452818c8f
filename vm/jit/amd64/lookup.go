package amd64

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
)

// lookupHelper is the helper the engine may replace by a direct lookup
// when the program's facts name its map argument (vm.Program.MapArgs) and
// Options.Maps resolves it.
const lookupHelper = int32(linux.FnMapLookupElem)

// elemLookup is a lookup the code leaves for: Run calls elem directly.
type elemLookup struct {
	elem    Lookuper
	keySize int
}

// resolveLookups finds the bpf_map_lookup_elem calls whose map argument the
// program's facts name (args, vm.Program.MapArgs: the verifier's, never
// derived here) and resolve knows, and returns the maps by slot.
func (c *compiler) resolveLookups(args []uint64, resolve func(uint64) (InlineMap, bool)) (map[int]*InlineMap, error) {
	if resolve == nil || len(args) == 0 {
		return nil, nil
	}
	if _, ok := c.helperIndex[lookupHelper]; !ok {
		return nil, nil
	}
	if len(args) != len(c.prog) {
		return nil, &vm.CompileError{PC: 0, Err: fmt.Errorf("jit: facts for %d map arguments in a %d-slot program", len(args), len(c.prog))}
	}
	byPtr := map[uint64]*InlineMap{}
	out := map[int]*InlineMap{}
	for pc, ptr := range args { // errors name the first call
		if ins := c.prog[pc]; ptr == 0 || ins.Opcode != isa.OpCall || ins.Src != isa.CallHelper || ins.Imm != lookupHelper {
			continue
		}
		m, seen := byPtr[ptr]
		if !seen {
			im, ok := resolve(ptr)
			if ok && im.Kind != InlineNone {
				if im.Kind == InlineHash && im.KeySize > MaxInlineKey {
					im.Kind = InlineElem // long keys: the unrolled code would be long too
				}
				if err := im.validate(); err != nil {
					return nil, &vm.CompileError{PC: pc, Err: fmt.Errorf("jit: map %#x: %w", ptr, err)}
				}
				if im.Kind == InlinePerCPUArray && uint64(im.MaxEntries)*uint64(im.Stride) >= 1<<31 && im.Elem != nil {
					// The code multiplies by 32-bit constants: look
					// giant per-CPU arrays up through Elem.
					im.Kind = InlineElem
				}
				m = &im
			}
			byPtr[ptr] = m
		}
		if m != nil {
			out[pc] = m
		}
	}
	return out, nil
}

// validate checks that the description can be trusted with the code's
// arithmetic.
func (m *InlineMap) validate() error {
	switch m.Kind {
	case InlineElem:
		if m.Elem == nil || m.KeySize == 0 || m.KeySize > 1<<16 {
			return fmt.Errorf("elem lookup with key size %d and lookup %v", m.KeySize, m.Elem)
		}
		return nil
	case InlineHash:
		return m.validateHash()
	case InlineArray, InlinePerCPUArray:
	default:
		return fmt.Errorf("unknown inline kind %d", m.Kind)
	}
	copies := uint64(1)
	if m.Kind == InlinePerCPUArray {
		if m.Slots <= 0 || m.Slots >= 1<<31 {
			return fmt.Errorf("per-CPU array with %d slots", m.Slots)
		}
		if uint64(m.MaxEntries)*uint64(m.Stride) >= 1<<31 && m.Elem == nil {
			return fmt.Errorf("per-CPU array of %d x %d bytes per slot without Elem", m.MaxEntries, m.Stride)
		}
		copies = uint64(m.Slots)
	}
	if m.KeySize != 4 || m.Stride == 0 || m.Stride%8 != 0 || m.Stride >= 1<<30 {
		return fmt.Errorf("array with key size %d, stride %d", m.KeySize, m.Stride)
	}
	hi, need := bits.Mul64(uint64(m.MaxEntries)*uint64(m.Stride), copies)
	if hi != 0 || uint64(len(m.Values)) < need || m.MaxEntries > 0 && len(m.Values) == 0 {
		return fmt.Errorf("array of %d x %d values of stride %d in %d bytes", copies, m.MaxEntries, m.Stride, len(m.Values))
	}
	return nil
}

// lookupCall emits bpf_map_lookup_elem on a map known at compile time:
// arrays and hash maps (hashlookup.go) compute the value's address inline,
// other maps leave for a direct call of their lookup. Checked code takes
// these paths only for keys in the live stack frames; other keys go to the
// helper, which checks them. Like the helper, the code changes r0 only.
func (c *compiler) lookupCall(pc int, ins isa.Instruction, m *InlineMap) {
	a := &c.a
	done := a.newLabel()
	size := m.KeySize
	if c.checked {
		slow := a.newLabel()
		c.stackArg(bpfReg[2], size, slow)
		helper := exitInfo{kind: exitHelper, pc: int32(pc), partial: c.pending(pc), arg: c.helperIndex[ins.Imm]}
		c.stub(slow, func() { c.exit(helper, done) })
	}
	if m.Kind == InlineElem {
		c.exit(exitInfo{kind: exitLookup, pc: int32(pc), partial: c.pending(pc), arg: int32(len(c.lookups))}, done)
		c.lookups = append(c.lookups, elemLookup{elem: m.Elem, keySize: int(m.KeySize)})
		a.bind(done)
		return
	}
	if m.Kind == InlineHash {
		c.hashLookup(pc, m, done)
		a.bind(done)
		c.keep = append(c.keep, m)
		return
	}
	null := a.newLabel()
	a.load(false, tmp1, bpfReg[2], 0) // the u32 index
	a.aluRI(extCmp, false, tmp1, int32(m.MaxEntries))
	a.jcc(ccAE, null)
	c.scale(tmp1, uint64(m.Stride))
	if m.Kind == InlinePerCPUArray {
		a.load(true, tmp2, ctxReg, offSlot)
		a.aluRI(extCmp, true, tmp2, int32(m.Slots))
		a.jcc(ccAE, null)
		c.scale(tmp2, uint64(m.MaxEntries)*uint64(m.Stride))
		a.aluRR(opAdd, true, tmp1, tmp2)
	}
	a.movImm(rax, valuesAddr(m.Values))
	a.aluRR(opAdd, true, rax, tmp1)
	c.stub(null, func() {
		a.aluRR(opXor, false, rax, rax)
		a.jmp(done)
	})
	a.bind(done)
	c.keep = append(c.keep, m)
}

// valuesAddr is the address of a map's value memory.
func valuesAddr(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return vm.Address(unsafe.Pointer(&b[0]))
}

// scale multiplies r by a constant that is a power of two or below 2^31.
func (c *compiler) scale(r reg, n uint64) {
	a := &c.a
	switch {
	case n == 1:
	case n&(n-1) == 0:
		a.shiftRI(0, extShl, true, r, uint8(bits.TrailingZeros64(n)))
	default:
		a.rr(0, true, false, []byte{0x69}, r, r) // imul r, r, imm32
		a.u32(uint32(n))
	}
}

// stackArg emits a jump to slow unless [r, r+size) lies in the live stack
// frames [r10-512, top): the test checked code makes for its own stack
// accesses, for a helper's memory argument.
func (c *compiler) stackArg(r reg, size uint32, slow label) {
	a := &c.a
	a.lea(tmp1, rbp, -vm.StackSize)
	a.aluRR(opCmp, true, r, tmp1)
	a.jcc(ccB, slow)
	switch size {
	case 1, 2, 4, 8:
		a.rm(0, true, false, []byte{0x3b}, r, ctxReg, offLimit+8*int32(bits.TrailingZeros32(size))) // cmp r, limit
	default: // r is in the stack: r+size-1 cannot wrap
		a.lea(tmp1, r, int32(size-1))
		a.rm(0, true, false, []byte{0x3b}, tmp1, ctxReg, offLimit) // limit[0] is top-1
	}
	a.jcc(ccA, slow)
}
