package progen

import (
	"fmt"
	"math/rand/v2"

	"github.com/bpfhost/bpfhost/isa"
)

// Hostile programs: unlike Program's, they use what makes verification hard
// (packet pointers and packet-changing helpers, map values that may be
// NULL, ring buffer records that must be released, spin locks, bpf_loop
// callbacks, tail calls, socket lookups) and now and then get one detail
// wrong (a bounds check one byte short, a NULL check left out, a record never
// released or used after release, a helper called under a lock, a stale
// packet pointer used after bpf_xdp_adjust_head, a callback returning a
// pointer). They are for comparing verifiers, not results: whether a program
// is safe is for the verifiers to decide, and the kernel's decision is the
// reference.

// Maps of a hostile program, by the index its lddw instructions use
// (isa.PseudoMapIdx).
const (
	HostileArray   = iota // array, 4-byte keys, HostileValueSize-byte values, 4 entries
	HostileRingbuf        // ring buffer of 4096 bytes
	HostileProgs          // program array of 1 entry
	HostileLock           // array of 1 element: bpf_spin_lock at offset 0, a u32 at 4
	HostileMaps           // how many
)

// HostileValueSize is the value size of the HostileArray map.
const HostileValueSize = 16

// Helper IDs the hostile programs call (Linux's numbers).
const (
	fnMapLookupElem  = 1
	fnTailCall       = 12
	fnXdpAdjustHead  = 44
	fnXdpAdjustTail  = 65
	fnSpinLock       = 93
	fnSpinUnlock     = 94
	fnRingbufReserve = 131
	fnRingbufSubmit  = 132
	fnRingbufDiscard = 133
	fnLoop           = 181
	fnGetPrandomU32  = 7
)

// Constructs of hostile programs (HostileProgram.Constructs).
const (
	ConstructComparedValues = "pointers to two map elements compared"
	ConstructJoinedRecords  = "ring buffer records joined"
	ConstructLow32Copy      = "32-bit copy of a packet pointer across a packet-changing helper"
	ConstructSubTailCall    = "tail call in a subprogram"
)

// HostileType is the program type of a hostile program.
type HostileType int

// Program types of hostile programs.
const (
	HostileXDP    HostileType = iota // section "xdp": xdp_md data at 0, data_end at 4
	HostileTC                        // section "tc": __sk_buff data at 76, data_end at 80
	HostileSocket                    // section "socket": no direct packet access
	hostileTypes
)

// Section returns the ELF section name that selects the type.
func (t HostileType) Section() string {
	switch t {
	case HostileTC:
		return "tc"
	case HostileSocket:
		return "socket"
	case HostileTPBTF:
		return "tp_btf/sched_switch"
	}
	return "xdp"
}

// HostileProgram is one generated program.
type HostileProgram struct {
	Type         HostileType
	Instructions []isa.Instruction
	// Flaws names the details the generator got wrong on purpose, in
	// order; empty if it meant the program to be safe. A verifier may
	// still accept a flawed program (a flaw can be harmless where it
	// lands) or reject a flawless one (imprecision).
	Flaws []string
	// Constructs names the fragments the program is made of ("ring
	// buffer records joined"), so that tests can set aside programs that
	// meet a known, open finding.
	Constructs []string
}

// Hostile generates hostile programs.
type Hostile struct {
	rng *rand.Rand
	// FlawRate is the chance, per fragment, of getting one detail wrong.
	FlawRate float64
	// SubprogramTailCalls adds fragments that call a subprogram which
	// tail-calls (subTailCall). Off by default: Linux refuses those
	// without BTF function info, which generated programs lack, and
	// turning them on changes every program a seed gives.
	SubprogramTailCalls bool

	out   []isa.Instruction
	typ   HostileType
	flaws []string
	made  []string   // constructs used
	cbs   []callback // callbacks and subprograms to append after the main function
}

// callback is a bpf_loop callback whose address an lddw at pc takes, or a
// subprogram that the call at pc calls.
type callback struct {
	pc   int
	body []isa.Instruction
}

// NewHostile returns a generator of hostile programs drawing from rng.
func NewHostile(rng *rand.Rand) *Hostile { return &Hostile{rng: rng, FlawRate: 0.15} }

// Program returns a new hostile program of 1 to 6 fragments.
func (h *Hostile) Program() HostileProgram {
	h.out, h.flaws, h.made, h.cbs = nil, nil, nil, nil
	h.typ = HostileType(h.rng.IntN(int(hostileTypes)))
	h.emit(mov64(6, 1)) // r6: the context, for the whole program
	for n := 1 + h.rng.IntN(6); n > 0; n-- {
		frags := []func(){h.mapValue, h.ringbuf, h.spinLock, h.loop, h.tailCall, h.twoValues, h.twoRecords}
		switch h.typ {
		case HostileXDP:
			frags = append(frags, h.packetRead, h.adjustHead, h.socket)
		case HostileTC:
			frags = append(frags, h.packetRead, h.socket)
		}
		if h.SubprogramTailCalls {
			frags = append(frags, h.subTailCall)
		}
		frags[h.rng.IntN(len(frags))]()
	}
	h.emit(movImm(0, int32(h.rng.IntN(3))))
	h.emit(isa.Instruction{Opcode: isa.OpExit})
	for _, cb := range h.cbs {
		start := len(h.out)
		h.out[cb.pc].Imm = int32(start - cb.pc - 1)
		h.out = append(h.out, cb.body...)
	}
	return HostileProgram{Type: h.typ, Instructions: h.out, Flaws: h.flaws, Constructs: h.made}
}

// flaw reports whether to get a detail wrong, and notes it.
func (h *Hostile) flaw(what string) bool {
	if h.rng.Float64() >= h.FlawRate {
		return false
	}
	h.flaws = append(h.flaws, what)
	return true
}

func (h *Hostile) emit(ins ...isa.Instruction) { h.out = append(h.out, ins...) }

// skip emits a conditional jump whose target is set by land.
func (h *Hostile) skip(op isa.JumpOp, dst isa.Register, imm int32) int {
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassJMP) | isa.Opcode(op), Dst: dst, Imm: imm})
	return len(h.out) - 1
}

// skipX is skip comparing two registers.
func (h *Hostile) skipX(op isa.JumpOp, dst, src isa.Register) int {
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassJMP) | isa.Opcode(op) | isa.Opcode(isa.SourceX), Dst: dst, Src: src})
	return len(h.out) - 1
}

// land points the jump at pc to the next instruction emitted.
func (h *Hostile) land(pc int) { h.out[pc].Offset = int16(len(h.out) - pc - 1) }

// packetPointers loads data and data_end of the context in r6 into d, e.
func (h *Hostile) packetPointers(d, e isa.Register) {
	data, end := int16(0), int16(4)
	if h.typ == HostileTC {
		data, end = 76, 80
	}
	h.emit(load(isa.SizeW, d, 6, data), load(isa.SizeW, e, 6, end))
}

// bounded emits "if d + n > e goto (the end of what follows)" with d copied
// to r4, and returns the jump to land.
func (h *Hostile) bounded(d, e isa.Register, n int) int {
	h.emit(mov64(4, d), addImm(4, int32(n)))
	return h.skipX(isa.JumpGT, 4, e)
}

func (h *Hostile) packetRead() {
	h.packetPointers(2, 3)
	size, w := h.size()
	n := w + h.rng.IntN(64)
	j := h.bounded(2, 3, n)
	off := h.rng.IntN(n-min(n, w)+1) &^ (w - 1)
	if h.flaw("packet access past the checked bound") {
		off = n - w + 1 + h.rng.IntN(4)
	}
	if h.rng.IntN(2) == 0 {
		h.emit(load(size, 0, 2, int16(off)))
	} else {
		h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(size) | isa.Opcode(isa.ModeMEM), Dst: 2, Offset: int16(off), Imm: int32(h.rng.Uint32())})
	}
	h.land(j)
}

// adjustHead moves the packet's start and reads through pointers loaded
// before (stale: unsafe) or after (reloaded and checked) the call.
func (h *Hostile) adjustHead() {
	h.packetPointers(7, 8)
	if h.rng.IntN(2) == 0 {
		h.made = append(h.made, ConstructLow32Copy)
		h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassALU) | isa.Opcode(isa.ALUMov) | isa.Opcode(isa.SourceX), Dst: 9, Src: 7}) // a 32-bit copy
	}
	fn := int32(fnXdpAdjustHead)
	if h.rng.IntN(3) == 0 {
		fn = fnXdpAdjustTail
	}
	h.emit(mov64(1, 6), movImm(2, int32(h.rng.IntN(33)-16)), call(fn))
	if h.flaw("packet pointer used after a packet-changing helper") {
		j := h.bounded(7, 8, 4)
		h.emit(load(isa.SizeW, 0, 7, 0))
		h.land(j)
		return
	}
	h.packetPointers(7, 8)
	j := h.bounded(7, 8, 4)
	h.emit(load(isa.SizeW, 0, 7, 0))
	h.land(j)
}

// lookup emits a lookup of key k in map m, leaving the value in r0.
func (h *Hostile) lookup(m int, k int32) {
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeW) | isa.Opcode(isa.ModeMEM), Dst: 10, Offset: -4, Imm: k})
	h.emit(mov64(2, 10), addImm(2, -4))
	h.emit(mapPtr(1, m)...)
	h.emit(call(fnMapLookupElem))
}

func (h *Hostile) mapValue() {
	h.lookup(HostileArray, int32(h.rng.IntN(5)))
	j := -1
	if !h.flaw("map value used without a NULL check") {
		j = h.skip(isa.JumpEq, 0, 0)
	}
	size, w := h.size()
	off := h.rng.IntN(HostileValueSize/w) * w
	if h.flaw("map value access past its end") {
		off = HostileValueSize - w + 1 + h.rng.IntN(w+4)
	}
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(size) | isa.Opcode(isa.ModeMEM), Dst: 0, Offset: int16(off), Imm: 7})
	if j >= 0 {
		h.land(j)
	}
}

func (h *Hostile) ringbuf() {
	size := int32(8 << h.rng.IntN(2))
	h.emit(mapPtr(1, HostileRingbuf)...)
	h.emit(movImm(2, size), movImm(3, 0), call(fnRingbufReserve))
	h.emit(mov64(7, 0))
	j := -1
	if !h.flaw("ring buffer record used without a NULL check") {
		j = h.skip(isa.JumpEq, 7, 0)
	}
	off := int16(h.rng.IntN(int(size)/8) * 8)
	if h.flaw("ring buffer record access past its end") {
		off = int16(size)
	}
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM), Dst: 7, Offset: off, Imm: 1})
	if h.rng.IntN(4) == 0 {
		// A tail call while the record is held: Linux refuses it.
		if h.flaw("tail call while a ring buffer record is held") {
			h.tailCall()
		}
	}
	release := int32(fnRingbufSubmit)
	if h.rng.IntN(2) == 0 {
		release = fnRingbufDiscard
	}
	if !h.flaw("ring buffer record never released") {
		h.emit(mov64(1, 7), movImm(2, 0), call(release))
		if h.flaw("ring buffer record used after release") {
			h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM), Dst: 7, Imm: 2})
		}
	}
	if j >= 0 {
		h.land(j)
	}
}

// twoValues compares pointers to two elements of one map (maybe the same
// element): which way the branch goes depends on the keys, not on offsets.
func (h *Hostile) twoValues() {
	h.made = append(h.made, ConstructComparedValues)
	h.lookup(HostileArray, int32(h.rng.IntN(4)))
	j1 := h.skip(isa.JumpEq, 0, 0)
	h.emit(mov64(7, 0))
	h.lookup(HostileArray, int32(h.rng.IntN(4)))
	j2 := h.skip(isa.JumpEq, 0, 0)
	ops := []isa.JumpOp{isa.JumpEq, isa.JumpNE, isa.JumpGT, isa.JumpGE, isa.JumpLT, isa.JumpLE}
	j3 := h.skipX(ops[h.rng.IntN(len(ops))], 0, 7)
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM), Dst: 7, Imm: 3})
	h.land(j3)
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM), Dst: 0, Offset: 8, Imm: 4})
	h.land(j1)
	h.land(j2)
}

// twoRecords reserves two ring buffer records, picks one of them on a
// random branch (a join of two references), and releases both.
func (h *Hostile) twoRecords() {
	h.made = append(h.made, ConstructJoinedRecords)
	h.emit(mapPtr(1, HostileRingbuf)...)
	h.emit(movImm(2, 16), movImm(3, 0), call(fnRingbufReserve), mov64(7, 0))
	j1 := h.skip(isa.JumpEq, 7, 0)
	h.emit(mapPtr(1, HostileRingbuf)...)
	h.emit(movImm(2, 16), movImm(3, 0), call(fnRingbufReserve), mov64(8, 0))
	j2 := h.skip(isa.JumpNE, 8, 0)
	h.emit(mov64(1, 7), movImm(2, 0), call(fnRingbufDiscard))
	j3 := h.skip(isa.JumpA, 0, 0)
	h.land(j2)
	h.emit(call(fnGetPrandomU32), mov64(9, 7))
	j4 := h.skip(isa.JumpGT, 0, 100)
	h.emit(mov64(9, 8))
	h.land(j4)
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM), Dst: 9, Imm: 5})
	h.emit(mov64(1, 7), movImm(2, 0), call(fnRingbufSubmit))
	h.emit(mov64(1, 8), movImm(2, 0), call(fnRingbufSubmit))
	if h.flaw("ring buffer record used after release through a joined copy") {
		h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM), Dst: 9, Imm: 6})
	}
	h.land(j1)
	h.land(j3)
}

func (h *Hostile) spinLock() {
	h.lookup(HostileLock, 0)
	j := h.skip(isa.JumpEq, 0, 0)
	h.emit(mov64(7, 0))
	if h.flaw("store to a bpf_spin_lock word") {
		h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeW) | isa.Opcode(isa.ModeMEM), Dst: 7, Imm: 1})
	}
	h.emit(mov64(1, 7), call(fnSpinLock))
	h.emit(load(isa.SizeW, 2, 7, 4), addImm(2, 1))
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassSTX) | isa.Opcode(isa.SizeW) | isa.Opcode(isa.ModeMEM), Dst: 7, Src: 2, Offset: 4})
	if h.flaw("helper call while a bpf_spin_lock is held") {
		h.emit(call(fnGetPrandomU32))
	}
	if !h.flaw("bpf_spin_lock never released") {
		h.emit(mov64(1, 7), call(fnSpinUnlock))
	}
	h.land(j)
}

func (h *Hostile) loop() {
	// The callback's context: an 8-byte stack slot.
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM), Dst: 10, Offset: -16, Imm: 0})
	n := int32(1 + h.rng.IntN(16))
	if h.rng.IntN(4) == 0 {
		h.emit(call(fnGetPrandomU32), mov64(1, 0)) // an unknown count
	} else {
		h.emit(movImm(1, n))
	}
	h.emit(isa.Instruction{Opcode: isa.OpLoadImm64, Dst: 2, Src: isa.PseudoFunc}, isa.Instruction{})
	cb := callback{pc: len(h.out) - 2}
	h.emit(mov64(3, 10), addImm(3, -16), movImm(4, 0), call(fnLoop))
	// The body: count in the context, sometimes read past it.
	off := int16(0)
	if h.flaw("callback access past its context") {
		off = 8
	}
	cb.body = append(cb.body, load(isa.SizeDW, 3, 2, off), addImm(3, 1))
	cb.body = append(cb.body, isa.Instruction{Opcode: isa.Opcode(isa.ClassSTX) | isa.Opcode(isa.SizeDW) | isa.Opcode(isa.ModeMEM), Dst: 2, Src: 3, Offset: off})
	switch {
	case h.flaw("callback returns a value outside [0, 1]"):
		cb.body = append(cb.body, movImm(0, 2))
	case h.flaw("callback returns a pointer"):
		cb.body = append(cb.body, mov64(0, 2))
	default:
		cb.body = append(cb.body, movImm(0, int32(h.rng.IntN(2))))
	}
	cb.body = append(cb.body, isa.Instruction{Opcode: isa.OpExit})
	h.cbs = append(h.cbs, cb)
}

func (h *Hostile) tailCall() {
	h.emit(mov64(1, 6))
	h.emit(mapPtr(2, HostileProgs)...)
	h.emit(movImm(3, int32(h.rng.IntN(2))), call(fnTailCall))
}

// subTailCall calls a subprogram that tail-calls and returns 0 when the
// tail call fails. Linux runs the target in the subprogram's place and
// hands its r0 to the caller (docs/decisions/0024), which then uses r0 as
// an offset into a map value it holds across the call, behind a bounds
// check that a flawed program leaves out, trusting the 0.
func (h *Hostile) subTailCall() {
	h.made = append(h.made, ConstructSubTailCall)
	h.lookup(HostileArray, int32(h.rng.IntN(4)))
	j := h.skip(isa.JumpEq, 0, 0)
	h.emit(mov64(7, 0), mov64(1, 6), isa.Instruction{Opcode: isa.OpCall, Src: isa.CallLocal})
	sub := callback{pc: len(h.out) - 1}
	k := -1
	if !h.flaw("result of a tail-calling subprogram trusted") {
		k = h.skip(isa.JumpGT, 0, HostileValueSize-1)
	}
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUAdd) | isa.Opcode(isa.SourceX), Dst: 7, Src: 0})
	h.emit(isa.Instruction{Opcode: isa.Opcode(isa.ClassST) | isa.Opcode(isa.SizeB) | isa.Opcode(isa.ModeMEM), Dst: 7, Imm: 1})
	if k >= 0 {
		h.land(k)
	}
	h.land(j)
	// The subprogram: r1 is the context.
	sub.body = append(sub.body, mapPtr(2, HostileProgs)...)
	sub.body = append(sub.body, movImm(3, int32(h.rng.IntN(2))), call(fnTailCall), movImm(0, 0), isa.Instruction{Opcode: isa.OpExit})
	h.cbs = append(h.cbs, sub)
}

// size returns a random access size and its width in bytes.
func (h *Hostile) size() (isa.Size, int) {
	switch h.rng.IntN(4) {
	case 0:
		return isa.SizeB, 1
	case 1:
		return isa.SizeH, 2
	case 2:
		return isa.SizeW, 4
	}
	return isa.SizeDW, 8
}

func mov64(dst, src isa.Register) isa.Instruction {
	return isa.Instruction{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUMov) | isa.Opcode(isa.SourceX), Dst: dst, Src: src}
}

func movImm(dst isa.Register, imm int32) isa.Instruction {
	return isa.Instruction{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUMov), Dst: dst, Imm: imm}
}

func addImm(dst isa.Register, imm int32) isa.Instruction {
	return isa.Instruction{Opcode: isa.Opcode(isa.ClassALU64) | isa.Opcode(isa.ALUAdd), Dst: dst, Imm: imm}
}

func load(size isa.Size, dst, src isa.Register, off int16) isa.Instruction {
	return isa.Instruction{Opcode: isa.Opcode(isa.ClassLDX) | isa.Opcode(size) | isa.Opcode(isa.ModeMEM), Dst: dst, Src: src, Offset: off}
}

func call(id int32) isa.Instruction { return isa.Instruction{Opcode: isa.OpCall, Imm: id} }

func mapPtr(dst isa.Register, m int) []isa.Instruction {
	return []isa.Instruction{{Opcode: isa.OpLoadImm64, Dst: dst, Src: isa.PseudoMapIdx, Imm: int32(m)}, {}}
}

// String prints the program with its type and flaws, for reports.
func (p HostileProgram) String() string {
	return fmt.Sprintf("; %s program, flaws: %v\n%s", p.Type.Section(), p.Flaws, isa.Disassemble(p.Instructions))
}
