package verifier

import (
	"math"
	"math/bits"

	"github.com/bpfhost/bpfhost/isa"
)

// Arithmetic: exact on constants (evalALU mirrors the interpreter), interval
// arithmetic otherwise, and relations in the zone for additions and
// subtractions that cannot wrap.

// evalALU computes one ALU instruction on concrete operands: dst, and src
// (the register's value or the immediate, sign-extended to 64 bits).
func evalALU(is64 bool, op isa.ALUOp, off int16, imm int32, dst, src uint64) uint64 {
	if is64 {
		switch op {
		case isa.ALUAdd:
			return dst + src
		case isa.ALUSub:
			return dst - src
		case isa.ALUMul:
			return dst * src
		case isa.ALUDiv:
			if off == 1 {
				if src == 0 {
					return 0
				}
				if int64(src) == -1 {
					return -dst
				}
				return uint64(int64(dst) / int64(src))
			}
			if src == 0 {
				return 0
			}
			return dst / src
		case isa.ALUMod:
			if off == 1 {
				if src == 0 {
					return dst
				}
				if int64(src) == -1 {
					return 0
				}
				return uint64(int64(dst) % int64(src))
			}
			if src == 0 {
				return dst
			}
			return dst % src
		case isa.ALUOr:
			return dst | src
		case isa.ALUAnd:
			return dst & src
		case isa.ALUXor:
			return dst ^ src
		case isa.ALULsh:
			return dst << (src & 63)
		case isa.ALURsh:
			return dst >> (src & 63)
		case isa.ALUArsh:
			return uint64(int64(dst) >> (src & 63))
		case isa.ALUNeg:
			return -dst
		case isa.ALUMov:
			switch off {
			case 8:
				return uint64(int64(int8(src)))
			case 16:
				return uint64(int64(int16(src)))
			case 32:
				return uint64(int64(int32(src)))
			}
			return src
		case isa.ALUEnd:
			return isa.SwapBytes(dst, int64(imm))
		}
		return 0
	}
	d, s := uint32(dst), uint32(src)
	var r uint32
	switch op {
	case isa.ALUAdd:
		r = d + s
	case isa.ALUSub:
		r = d - s
	case isa.ALUMul:
		r = d * s
	case isa.ALUDiv:
		switch {
		case s == 0:
			r = 0
		case off == 1 && int32(s) == -1:
			r = -d
		case off == 1:
			r = uint32(int32(d) / int32(s))
		default:
			r = d / s
		}
	case isa.ALUMod:
		switch {
		case s == 0:
			r = d
		case off == 1 && int32(s) == -1:
			r = 0
		case off == 1:
			r = uint32(int32(d) % int32(s))
		default:
			r = d % s
		}
	case isa.ALUOr:
		r = d | s
	case isa.ALUAnd:
		r = d & s
	case isa.ALUXor:
		r = d ^ s
	case isa.ALULsh:
		r = d << (s & 31)
	case isa.ALURsh:
		r = d >> (s & 31)
	case isa.ALUArsh:
		r = uint32(int32(d) >> (s & 31))
	case isa.ALUNeg:
		r = -d
	case isa.ALUMov:
		switch off {
		case 8:
			r = uint32(int32(int8(s)))
		case 16:
			r = uint32(int32(int16(s)))
		default:
			r = s
		}
	case isa.ALUEnd:
		if src != 0 { // to big endian: a swap on this little-endian host
			return isa.SwapBytes(dst, int64(imm))
		}
		return isa.Truncate(dst, int64(imm))
	}
	return uint64(r)
}

// scalarALU returns the interval of a scalar ALU result. a is dst's
// interval, b the source's (for K forms, the immediate as the instruction
// reads it: sign-extended for 64-bit operations, zero-extended 32 bits
// otherwise).
func scalarALU(is64 bool, op isa.ALUOp, off int16, imm int32, toBE bool, a, b ival) ival {
	if a.empty() || b.empty() {
		// Operands of an unreachable state: nothing to compute, and the
		// arithmetic below (division) assumes non-empty ranges.
		return topIval
	}
	if op == isa.ALUEnd {
		switch {
		case a.isConst():
			src := uint64(0)
			if toBE {
				src = 1
			}
			return constIval(evalALU(is64, op, off, imm, a.umin, src))
		case !is64 && !toBE:
			return widthIval(imm, a, true)
		}
		return widthIval(imm, a, false)
	}
	if a.isConst() && (b.isConst() || op == isa.ALUNeg) {
		return constIval(evalALU(is64, op, off, imm, a.umin, b.umin))
	}
	if op == isa.ALUMov && b.isConst() {
		return constIval(evalALU(is64, op, off, imm, 0, b.umin))
	}
	if is64 {
		switch op {
		case isa.ALUAdd:
			return ivAdd(a, b)
		case isa.ALUSub:
			return ivSub(a, b)
		case isa.ALUMul:
			return ivMul(a, b)
		case isa.ALUDiv:
			if off == 1 {
				return ivSDiv(a, b)
			}
			return ivUDiv(a, b)
		case isa.ALUMod:
			if off == 1 {
				return ivSMod(a, b)
			}
			return ivUMod(a, b)
		case isa.ALUOr:
			return ivOr(a, b)
		case isa.ALUAnd:
			return ivAnd(a, b)
		case isa.ALUXor:
			return ivXor(a, b)
		case isa.ALULsh:
			return ivLsh(a, b)
		case isa.ALURsh:
			return ivRsh(a, b)
		case isa.ALUArsh:
			return ivArsh(a, b)
		case isa.ALUNeg:
			return ivNeg(a)
		case isa.ALUMov:
			switch off {
			case 8, 16, 32:
				return b.sext(uint(off))
			}
			return b
		}
		return topIval
	}
	// 32-bit: operate on the low halves, zero-extend the result.
	a, b = a.low32(), b.low32()
	switch op {
	case isa.ALUAdd:
		if a.umax+b.umax <= math.MaxUint32 {
			return urange(a.umin+b.umin, a.umax+b.umax)
		}
	case isa.ALUSub:
		if a.umin >= b.umax {
			return urange(a.umin-b.umax, a.umax-b.umin)
		}
	case isa.ALUMul:
		if hi, lo := bits.Mul64(a.umax, b.umax); hi == 0 && lo <= math.MaxUint32 {
			return urange(a.umin*b.umin, lo)
		}
	case isa.ALUDiv:
		if off == 0 {
			return ivUDiv(a, b)
		}
		lo, hi := a.s32()
		m := max(absU(lo), absU(hi))
		return fromS32(-int64(min(m, math.MaxInt32)), int64(min(m, math.MaxInt32)))
	case isa.ALUMod:
		if off == 0 {
			return ivUMod(a, b)
		}
	case isa.ALUOr:
		return ivOr(a, b)
	case isa.ALUAnd:
		return ivAnd(a, b)
	case isa.ALUXor:
		return ivXor(a, b)
	case isa.ALULsh:
		lo, hi := shiftAmounts(b, 32)
		if a.umax<<hi <= math.MaxUint32 && bits.LeadingZeros64(a.umax) >= int(hi) {
			return urange(a.umin<<lo, a.umax<<hi)
		}
	case isa.ALURsh:
		lo, hi := shiftAmounts(b, 32)
		return urange(a.umin>>hi, a.umax>>lo)
	case isa.ALUArsh:
		lo, hi := shiftAmounts(b, 32)
		smin, smax := a.s32()
		return fromS32(min(smin>>lo, smin>>hi), max(smax>>lo, smax>>hi))
	case isa.ALUMov:
		switch off {
		case 8, 16:
			s := b.sext(uint(off))
			return fromS32(s.smin, s.smax)
		}
		return b
	}
	return u32Ival
}

// widthIval is the result of a byte-order operation of the given width:
// truncation keeps small values; a swap gives any value of the width.
func widthIval(width int32, a ival, truncate bool) ival {
	if width == 64 {
		if truncate {
			return a
		}
		return topIval
	}
	max := uint64(1)<<uint(width) - 1
	if truncate && a.umax <= max {
		return a
	}
	return urange(0, max)
}
