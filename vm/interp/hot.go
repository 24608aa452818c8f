package interp

import (
	"unsafe"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// machine is the state of a run that the hot loop and the driver share.
type machine struct {
	r     [16]uint64
	pc    int    // next instruction
	start int    // first instruction of the current straight-line run
	n     uint64 // instructions executed before start
	// lo and hi bound the live stack frames: checked runs let the hot loop
	// access [lo, hi) directly and send every other access to the driver.
	lo, hi uint64
}

// Results of the hot loop.
const (
	hotSlow   = iota // m.pc is an instruction the driver must execute
	hotBudget        // the budget ran out at the jump at m.pc
)

// hot runs arithmetic, jumps, lddw and loads and stores until it meets an
// instruction it leaves to the driver (calls, exit, atomics, legacy packet
// loads, checked accesses outside the stack) or the budget runs out. It calls
// no function, so that the compiler keeps its loop state in registers; see
// docs/decisions/0002-interpreter-dispatch.md. Its loads and stores are the
// program's, which follow eBPF's memory model rather than Go's, so the race
// detector does not instrument them (docs/decisions/0003-memory.md).
//
//go:norace
func (e *executable) hot(m *machine, budget uint64, checked bool) int {
	base := unsafe.Pointer(unsafe.SliceData(e.code))
	pc, start, n := m.pc, m.start, m.n
	lo, hi := m.lo, m.hi
	for {
		// Validation guarantees that control never leaves the program.
		in := (*insn)(unsafe.Add(base, uintptr(pc)*unsafe.Sizeof(insn{})))
		pc++
		switch in.op {
		// 64-bit arithmetic.
		case alu64 | k | 0x00:
			m.r[in.dst&15] += uint64(in.imm)
		case alu64 | x | 0x00:
			m.r[in.dst&15] += m.r[in.src&15]
		case alu64 | k | 0x10:
			m.r[in.dst&15] -= uint64(in.imm)
		case alu64 | x | 0x10:
			m.r[in.dst&15] -= m.r[in.src&15]
		case alu64 | k | 0x20:
			m.r[in.dst&15] *= uint64(in.imm)
		case alu64 | x | 0x20:
			m.r[in.dst&15] *= m.r[in.src&15]
		case alu64 | k | 0x30:
			if d := uint64(in.imm); d != 0 {
				m.r[in.dst&15] /= d
			} else {
				m.r[in.dst&15] = 0
			}
		case alu64 | x | 0x30:
			if d := m.r[in.src&15]; d != 0 {
				m.r[in.dst&15] /= d
			} else {
				m.r[in.dst&15] = 0
			}
		case alu64 | k | 0x40:
			m.r[in.dst&15] |= uint64(in.imm)
		case alu64 | x | 0x40:
			m.r[in.dst&15] |= m.r[in.src&15]
		case alu64 | k | 0x50:
			m.r[in.dst&15] &= uint64(in.imm)
		case alu64 | x | 0x50:
			m.r[in.dst&15] &= m.r[in.src&15]
		case alu64 | k | 0x60:
			m.r[in.dst&15] <<= uint64(in.imm) & 63
		case alu64 | x | 0x60:
			m.r[in.dst&15] <<= m.r[in.src&15] & 63
		case alu64 | k | 0x70:
			m.r[in.dst&15] >>= uint64(in.imm) & 63
		case alu64 | x | 0x70:
			m.r[in.dst&15] >>= m.r[in.src&15] & 63
		case alu64 | k | 0x80:
			m.r[in.dst&15] = -m.r[in.dst&15]
		case alu64 | k | 0x90:
			if d := uint64(in.imm); d != 0 {
				m.r[in.dst&15] %= d
			}
		case alu64 | x | 0x90:
			if d := m.r[in.src&15]; d != 0 {
				m.r[in.dst&15] %= d
			}
		case alu64 | k | 0xa0:
			m.r[in.dst&15] ^= uint64(in.imm)
		case alu64 | x | 0xa0:
			m.r[in.dst&15] ^= m.r[in.src&15]
		case alu64 | k | 0xb0:
			m.r[in.dst&15] = uint64(in.imm)
		case alu64 | x | 0xb0:
			m.r[in.dst&15] = m.r[in.src&15]
		case alu64 | k | 0xc0:
			m.r[in.dst&15] = uint64(int64(m.r[in.dst&15]) >> (uint64(in.imm) & 63))
		case alu64 | x | 0xc0:
			m.r[in.dst&15] = uint64(int64(m.r[in.dst&15]) >> (m.r[in.src&15] & 63))
		case alu64 | k | 0xd0: // bswap
			m.r[in.dst&15] = isa.SwapBytes(m.r[in.dst&15], in.imm)
		case opSdiv64K:
			if d := in.imm; d != 0 {
				m.r[in.dst&15] = uint64(int64(m.r[in.dst&15]) / d)
			} else {
				m.r[in.dst&15] = 0
			}
		case opSdiv64X:
			if d := int64(m.r[in.src&15]); d != 0 {
				m.r[in.dst&15] = uint64(int64(m.r[in.dst&15]) / d)
			} else {
				m.r[in.dst&15] = 0
			}
		case opSmod64K:
			if d := in.imm; d != 0 {
				m.r[in.dst&15] = uint64(int64(m.r[in.dst&15]) % d)
			}
		case opSmod64X:
			if d := int64(m.r[in.src&15]); d != 0 {
				m.r[in.dst&15] = uint64(int64(m.r[in.dst&15]) % d)
			}
		case opMovsx64B:
			m.r[in.dst&15] = uint64(int64(int8(m.r[in.src&15])))
		case opMovsx64H:
			m.r[in.dst&15] = uint64(int64(int16(m.r[in.src&15])))
		case opMovsx64W:
			m.r[in.dst&15] = uint64(int64(int32(m.r[in.src&15])))

		// 32-bit arithmetic: operands are the low halves, results are
		// zero-extended.
		case alu | k | 0x00:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) + uint32(in.imm))
		case alu | x | 0x00:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) + uint32(m.r[in.src&15]))
		case alu | k | 0x10:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) - uint32(in.imm))
		case alu | x | 0x10:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) - uint32(m.r[in.src&15]))
		case alu | k | 0x20:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) * uint32(in.imm))
		case alu | x | 0x20:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) * uint32(m.r[in.src&15]))
		case alu | k | 0x30:
			if d := uint32(in.imm); d != 0 {
				m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) / d)
			} else {
				m.r[in.dst&15] = 0
			}
		case alu | x | 0x30:
			if d := uint32(m.r[in.src&15]); d != 0 {
				m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) / d)
			} else {
				m.r[in.dst&15] = 0
			}
		case alu | k | 0x40:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) | uint32(in.imm))
		case alu | x | 0x40:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) | uint32(m.r[in.src&15]))
		case alu | k | 0x50:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) & uint32(in.imm))
		case alu | x | 0x50:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) & uint32(m.r[in.src&15]))
		case alu | k | 0x60:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) << (uint32(in.imm) & 31))
		case alu | x | 0x60:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) << (uint32(m.r[in.src&15]) & 31))
		case alu | k | 0x70:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) >> (uint32(in.imm) & 31))
		case alu | x | 0x70:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) >> (uint32(m.r[in.src&15]) & 31))
		case alu | k | 0x80:
			m.r[in.dst&15] = uint64(-uint32(m.r[in.dst&15]))
		case alu | k | 0x90:
			if d := uint32(in.imm); d != 0 {
				m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) % d)
			} else {
				m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]))
			}
		case alu | x | 0x90:
			if d := uint32(m.r[in.src&15]); d != 0 {
				m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) % d)
			} else {
				m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]))
			}
		case alu | k | 0xa0:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) ^ uint32(in.imm))
		case alu | x | 0xa0:
			m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]) ^ uint32(m.r[in.src&15]))
		case alu | k | 0xb0:
			m.r[in.dst&15] = uint64(uint32(in.imm))
		case alu | x | 0xb0:
			m.r[in.dst&15] = uint64(uint32(m.r[in.src&15]))
		case alu | k | 0xc0:
			m.r[in.dst&15] = uint64(uint32(int32(uint32(m.r[in.dst&15])) >> (uint32(in.imm) & 31)))
		case alu | x | 0xc0:
			m.r[in.dst&15] = uint64(uint32(int32(uint32(m.r[in.dst&15])) >> (uint32(m.r[in.src&15]) & 31)))
		case alu | k | 0xd0: // to little-endian: truncate on a little-endian host
			m.r[in.dst&15] = isa.Truncate(m.r[in.dst&15], in.imm)
		case alu | x | 0xd0: // to big-endian
			m.r[in.dst&15] = isa.SwapBytes(m.r[in.dst&15], in.imm)
		case opSdiv32K:
			if d := int32(in.imm); d != 0 {
				m.r[in.dst&15] = uint64(uint32(int32(uint32(m.r[in.dst&15])) / d))
			} else {
				m.r[in.dst&15] = 0
			}
		case opSdiv32X:
			if d := int32(uint32(m.r[in.src&15])); d != 0 {
				m.r[in.dst&15] = uint64(uint32(int32(uint32(m.r[in.dst&15])) / d))
			} else {
				m.r[in.dst&15] = 0
			}
		case opSmod32K:
			if d := int32(in.imm); d != 0 {
				m.r[in.dst&15] = uint64(uint32(int32(uint32(m.r[in.dst&15])) % d))
			} else {
				m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]))
			}
		case opSmod32X:
			if d := int32(uint32(m.r[in.src&15])); d != 0 {
				m.r[in.dst&15] = uint64(uint32(int32(uint32(m.r[in.dst&15])) % d))
			} else {
				m.r[in.dst&15] = uint64(uint32(m.r[in.dst&15]))
			}
		case opMovsx32B:
			m.r[in.dst&15] = uint64(uint32(int32(int8(m.r[in.src&15]))))
		case opMovsx32H:
			m.r[in.dst&15] = uint64(uint32(int32(int16(m.r[in.src&15]))))

		// 64-bit jumps.
		case jmp | 0x00:
			goto jump
		case jmp | k | 0x10:
			if m.r[in.dst&15] == uint64(in.imm) {
				goto jump
			}
		case jmp | x | 0x10:
			if m.r[in.dst&15] == m.r[in.src&15] {
				goto jump
			}
		case jmp | k | 0x20:
			if m.r[in.dst&15] > uint64(in.imm) {
				goto jump
			}
		case jmp | x | 0x20:
			if m.r[in.dst&15] > m.r[in.src&15] {
				goto jump
			}
		case jmp | k | 0x30:
			if m.r[in.dst&15] >= uint64(in.imm) {
				goto jump
			}
		case jmp | x | 0x30:
			if m.r[in.dst&15] >= m.r[in.src&15] {
				goto jump
			}
		case jmp | k | 0x40:
			if m.r[in.dst&15]&uint64(in.imm) != 0 {
				goto jump
			}
		case jmp | x | 0x40:
			if m.r[in.dst&15]&m.r[in.src&15] != 0 {
				goto jump
			}
		case jmp | k | 0x50:
			if m.r[in.dst&15] != uint64(in.imm) {
				goto jump
			}
		case jmp | x | 0x50:
			if m.r[in.dst&15] != m.r[in.src&15] {
				goto jump
			}
		case jmp | k | 0x60:
			if int64(m.r[in.dst&15]) > in.imm {
				goto jump
			}
		case jmp | x | 0x60:
			if int64(m.r[in.dst&15]) > int64(m.r[in.src&15]) {
				goto jump
			}
		case jmp | k | 0x70:
			if int64(m.r[in.dst&15]) >= in.imm {
				goto jump
			}
		case jmp | x | 0x70:
			if int64(m.r[in.dst&15]) >= int64(m.r[in.src&15]) {
				goto jump
			}
		case jmp | k | 0xa0:
			if m.r[in.dst&15] < uint64(in.imm) {
				goto jump
			}
		case jmp | x | 0xa0:
			if m.r[in.dst&15] < m.r[in.src&15] {
				goto jump
			}
		case jmp | k | 0xb0:
			if m.r[in.dst&15] <= uint64(in.imm) {
				goto jump
			}
		case jmp | x | 0xb0:
			if m.r[in.dst&15] <= m.r[in.src&15] {
				goto jump
			}
		case jmp | k | 0xc0:
			if int64(m.r[in.dst&15]) < in.imm {
				goto jump
			}
		case jmp | x | 0xc0:
			if int64(m.r[in.dst&15]) < int64(m.r[in.src&15]) {
				goto jump
			}
		case jmp | k | 0xd0:
			if int64(m.r[in.dst&15]) <= in.imm {
				goto jump
			}
		case jmp | x | 0xd0:
			if int64(m.r[in.dst&15]) <= int64(m.r[in.src&15]) {
				goto jump
			}

		// 32-bit jumps compare the low halves.
		case jmp32 | 0x00: // gotol
			goto jump
		case jmp32 | k | 0x10:
			if uint32(m.r[in.dst&15]) == uint32(in.imm) {
				goto jump
			}
		case jmp32 | x | 0x10:
			if uint32(m.r[in.dst&15]) == uint32(m.r[in.src&15]) {
				goto jump
			}
		case jmp32 | k | 0x20:
			if uint32(m.r[in.dst&15]) > uint32(in.imm) {
				goto jump
			}
		case jmp32 | x | 0x20:
			if uint32(m.r[in.dst&15]) > uint32(m.r[in.src&15]) {
				goto jump
			}
		case jmp32 | k | 0x30:
			if uint32(m.r[in.dst&15]) >= uint32(in.imm) {
				goto jump
			}
		case jmp32 | x | 0x30:
			if uint32(m.r[in.dst&15]) >= uint32(m.r[in.src&15]) {
				goto jump
			}
		case jmp32 | k | 0x40:
			if uint32(m.r[in.dst&15])&uint32(in.imm) != 0 {
				goto jump
			}
		case jmp32 | x | 0x40:
			if uint32(m.r[in.dst&15])&uint32(m.r[in.src&15]) != 0 {
				goto jump
			}
		case jmp32 | k | 0x50:
			if uint32(m.r[in.dst&15]) != uint32(in.imm) {
				goto jump
			}
		case jmp32 | x | 0x50:
			if uint32(m.r[in.dst&15]) != uint32(m.r[in.src&15]) {
				goto jump
			}
		case jmp32 | k | 0x60:
			if int32(uint32(m.r[in.dst&15])) > int32(in.imm) {
				goto jump
			}
		case jmp32 | x | 0x60:
			if int32(uint32(m.r[in.dst&15])) > int32(uint32(m.r[in.src&15])) {
				goto jump
			}
		case jmp32 | k | 0x70:
			if int32(uint32(m.r[in.dst&15])) >= int32(in.imm) {
				goto jump
			}
		case jmp32 | x | 0x70:
			if int32(uint32(m.r[in.dst&15])) >= int32(uint32(m.r[in.src&15])) {
				goto jump
			}
		case jmp32 | k | 0xa0:
			if uint32(m.r[in.dst&15]) < uint32(in.imm) {
				goto jump
			}
		case jmp32 | x | 0xa0:
			if uint32(m.r[in.dst&15]) < uint32(m.r[in.src&15]) {
				goto jump
			}
		case jmp32 | k | 0xb0:
			if uint32(m.r[in.dst&15]) <= uint32(in.imm) {
				goto jump
			}
		case jmp32 | x | 0xb0:
			if uint32(m.r[in.dst&15]) <= uint32(m.r[in.src&15]) {
				goto jump
			}
		case jmp32 | k | 0xc0:
			if int32(uint32(m.r[in.dst&15])) < int32(in.imm) {
				goto jump
			}
		case jmp32 | x | 0xc0:
			if int32(uint32(m.r[in.dst&15])) < int32(uint32(m.r[in.src&15])) {
				goto jump
			}
		case jmp32 | k | 0xd0:
			if int32(uint32(m.r[in.dst&15])) <= int32(in.imm) {
				goto jump
			}
		case jmp32 | x | 0xd0:
			if int32(uint32(m.r[in.dst&15])) <= int32(uint32(m.r[in.src&15])) {
				goto jump
			}

		// Loads and stores.
		case ld | dw | 0x00: // lddw
			m.r[in.dst&15] = uint64(in.imm)
			pc++
		case ldx | mem | w:
			a := m.r[in.src&15] + uint64(in.off)
			if checked && (a < lo || a > hi-4) {
				goto slow
			}
			m.r[in.dst&15] = uint64(*(*uint32)(vm.Pointer(a)))
		case ldx | mem | h:
			a := m.r[in.src&15] + uint64(in.off)
			if checked && (a < lo || a > hi-2) {
				goto slow
			}
			m.r[in.dst&15] = uint64(*(*uint16)(vm.Pointer(a)))
		case ldx | mem | b:
			a := m.r[in.src&15] + uint64(in.off)
			if checked && (a < lo || a > hi-1) {
				goto slow
			}
			m.r[in.dst&15] = uint64(*(*uint8)(vm.Pointer(a)))
		case ldx | mem | dw:
			a := m.r[in.src&15] + uint64(in.off)
			if checked && (a < lo || a > hi-8) {
				goto slow
			}
			m.r[in.dst&15] = *(*uint64)(vm.Pointer(a))
		case ldx | memsx | w:
			a := m.r[in.src&15] + uint64(in.off)
			if checked && (a < lo || a > hi-4) {
				goto slow
			}
			m.r[in.dst&15] = uint64(int64(*(*int32)(vm.Pointer(a))))
		case ldx | memsx | h:
			a := m.r[in.src&15] + uint64(in.off)
			if checked && (a < lo || a > hi-2) {
				goto slow
			}
			m.r[in.dst&15] = uint64(int64(*(*int16)(vm.Pointer(a))))
		case ldx | memsx | b:
			a := m.r[in.src&15] + uint64(in.off)
			if checked && (a < lo || a > hi-1) {
				goto slow
			}
			m.r[in.dst&15] = uint64(int64(*(*int8)(vm.Pointer(a))))
		case st | mem | w, stx | mem | w:
			a := m.r[in.dst&15] + uint64(in.off)
			if checked && (a < lo || a > hi-4) {
				goto slow
			}
			v := uint64(in.imm)
			if in.op&0x07 == stx {
				v = m.r[in.src&15]
			}
			*(*uint32)(vm.Pointer(a)) = uint32(v)
		case st | mem | h, stx | mem | h:
			a := m.r[in.dst&15] + uint64(in.off)
			if checked && (a < lo || a > hi-2) {
				goto slow
			}
			v := uint64(in.imm)
			if in.op&0x07 == stx {
				v = m.r[in.src&15]
			}
			*(*uint16)(vm.Pointer(a)) = uint16(v)
		case st | mem | b, stx | mem | b:
			a := m.r[in.dst&15] + uint64(in.off)
			if checked && (a < lo || a > hi-1) {
				goto slow
			}
			v := uint64(in.imm)
			if in.op&0x07 == stx {
				v = m.r[in.src&15]
			}
			*(*uint8)(vm.Pointer(a)) = uint8(v)
		case st | mem | dw, stx | mem | dw:
			a := m.r[in.dst&15] + uint64(in.off)
			if checked && (a < lo || a > hi-8) {
				goto slow
			}
			v := uint64(in.imm)
			if in.op&0x07 == stx {
				v = m.r[in.src&15]
			}
			*(*uint64)(vm.Pointer(a)) = v
		default:
			goto slow
		}
		continue

	jump:
		n += uint64(pc - start)
		if n > budget {
			m.pc, m.start, m.n = pc-1, start, n
			return hotBudget
		}
		pc = int(in.off)
		start = pc
	}
slow:
	m.pc, m.start, m.n = pc-1, start, n
	return hotSlow
}
