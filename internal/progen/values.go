package progen

import "math"

// Edge cases of 64-bit arithmetic: zero, ones, sign boundaries of 8, 16, 32
// and 64 bits, and values whose low half alone is zero or negative.
var edges64 = []uint64{
	0, 1, 2, 3, 7, 8, 63, 64,
	math.MaxUint64, math.MaxUint64 - 1,
	0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
	math.MaxInt32, 0x80000000, math.MaxUint32, 1 << 32, 1<<32 + 1,
	math.MaxInt64, 1 << 63, 1<<63 + 1,
	0xffffffff80000000, 0xffffffff00000000, 0x00000000ffff8000,
	0x8000000000000080, 0x0123456789abcdef,
}

// Edge cases of 32-bit immediates.
var edges32 = []int32{
	0, 1, -1, 2, -2, 7, 8, 31, 32, 63, 64,
	0x7f, -0x80, 0xff, 0x7fff, -0x8000, 0xffff,
	math.MaxInt32, math.MinInt32, math.MaxInt32 - 1, math.MinInt32 + 1,
}

// Divisors and dividends that hit the special cases of division: by zero in
// 64 and in 32 bits (1<<32 has a zero low half), by one and minus one, and
// the most negative values, whose negation overflows.
var (
	specialDivisors  = []uint64{0, 1 << 32, 1, math.MaxUint64, math.MaxUint32, 0xffffffff00000000, 2, 1 << 63, 0x80000000}
	specialDividends = []uint64{1 << 63, 0x80000000, 0xffffffff80000000, math.MaxUint64, 0, 1, math.MaxInt64, math.MaxUint32, 7, 0xfffffffffffffff9}
)

// value64 returns a random 64-bit constant: uniform half of the time,
// otherwise an edge case or a small or sign-extended 32-bit value.
func (g *Generator) value64() uint64 {
	switch g.rng.IntN(8) {
	case 0, 1:
		return edges64[g.rng.IntN(len(edges64))]
	case 2:
		return uint64(int64(g.rng.IntN(33) - 16))
	case 3:
		return uint64(int64(int32(g.rng.Uint32()))) // sign-extended
	}
	return g.rng.Uint64()
}

// imm32 returns a random immediate: edge cases, small values or uniform.
func (g *Generator) imm32() int32 {
	switch g.rng.IntN(8) {
	case 0, 1:
		return edges32[g.rng.IntN(len(edges32))]
	case 2, 3:
		return int32(g.rng.IntN(33) - 16)
	}
	return int32(g.rng.Uint32())
}

// nonZeroImm32 returns an immediate for a division: never zero, which Linux
// rejects in the K form.
func (g *Generator) nonZeroImm32() int32 {
	for {
		if v := g.imm32(); v != 0 {
			return v
		}
	}
}
