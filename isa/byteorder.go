package isa

import "math/bits"

// SwapBytes reverses the bytes of v's low width bits (16, 32 or 64) and
// zero-extends the result: the result of bswap16/32/64, and of be16/32/64
// (ALU-class END to big endian) on a little-endian host.
func SwapBytes(v uint64, width int64) uint64 {
	switch width {
	case 16:
		return uint64(bits.ReverseBytes16(uint16(v)))
	case 32:
		return uint64(bits.ReverseBytes32(uint32(v)))
	}
	return bits.ReverseBytes64(v)
}

// Truncate keeps v's low width bits (16, 32 or 64): the result of
// le16/32/64 (ALU-class END to little endian) on a little-endian host.
func Truncate(v uint64, width int64) uint64 {
	switch width {
	case 16:
		return uint64(uint16(v))
	case 32:
		return uint64(uint32(v))
	}
	return v
}
