package verifier

import (
	"flag"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
)

// aluCases sets the number of cases of TestScalarALUSound for long runs.
var aluCases = flag.Int("verifier.alu", 0, "cases for TestScalarALUSound (0: the default)")

// sampleSet draws a few concrete values of one shape (small, around the
// sign and 32-bit boundaries, multiples of a power of two, anything).
func sampleSet(rng *rand.Rand) []uint64 {
	n := 1 + rng.IntN(4)
	vals := make([]uint64, n)
	shape := rng.IntN(6)
	shift := uint(rng.IntN(12))
	for i := range vals {
		var v uint64
		switch shape {
		case 0:
			v = uint64(rng.IntN(70))
		case 1:
			v = uint64(int64(rng.IntN(200) - 100))
		case 2:
			v = math.MaxUint32 - uint64(rng.IntN(50)) + uint64(rng.IntN(100))
		case 3:
			v = uint64(rng.IntN(1000)) << shift
		case 4:
			v = 1<<63 - uint64(rng.IntN(50)) + uint64(rng.IntN(100))
		default:
			v = rng.Uint64()
		}
		vals[i] = v
	}
	return vals
}

// hull is the smallest ival holding vals, with their common trailing zeros.
func hull(vals []uint64) (ival, uint8) {
	iv := ival{math.MaxInt64, math.MinInt64, math.MaxUint64, 0}
	tz := uint8(64)
	for _, v := range vals {
		iv.umin, iv.umax = min(iv.umin, v), max(iv.umax, v)
		iv.smin, iv.smax = min(iv.smin, int64(v)), max(iv.smax, int64(v))
		tz = min(tz, uint8(bits.TrailingZeros64(v)))
	}
	return iv.norm(), min(tz, 63)
}

// TestScalarALUSound checks the transfer functions of scalar arithmetic
// against concrete evaluation: for operands drawn from two sets, the
// result lies in the abstract result's signed and unsigned ranges and has
// at least its known trailing zero bits. A 32-bit shift's known low bits
// once used the amount masked to 6 bits (an unsound empty range, found by
// the soundness fuzzer); this is the exhaustive-ish version of that check.
func TestScalarALUSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ops := []isa.ALUOp{isa.ALUAdd, isa.ALUSub, isa.ALUMul, isa.ALUDiv, isa.ALUMod, isa.ALUOr, isa.ALUAnd,
		isa.ALUXor, isa.ALULsh, isa.ALURsh, isa.ALUArsh, isa.ALUNeg, isa.ALUMov}
	n := 200000
	if testing.Short() {
		n = 20000
	}
	if *aluCases > 0 {
		n = *aluCases
	}
	failures := 0
	for i := 0; i < n && failures < 10; i++ {
		op := ops[rng.IntN(len(ops))]
		is64 := rng.IntN(2) == 0
		var off int16
		if (op == isa.ALUDiv || op == isa.ALUMod) && rng.IntN(2) == 0 {
			off = 1
		}
		if op == isa.ALUMov && rng.IntN(2) == 0 {
			off = []int16{8, 16, 32}[rng.IntN(3)]
		}
		as, bs := sampleSet(rng), sampleSet(rng)
		a, ta := hull(as)
		b, tb := hull(bs)
		res := scalarALU(is64, op, off, 0, false, a, b)
		tz := aluTZ(op, is64, ta, tb, b)
		if op == isa.ALUMov {
			tz = 0 // moves keep the source's bits in alu, not through aluTZ
		}
		for _, x := range as {
			for _, y := range bs {
				r := evalALU(is64, op, off, 0, x, y)
				inRange := r >= res.umin && r <= res.umax && int64(r) >= res.smin && int64(r) <= res.smax
				lowBits := r == 0 || bits.TrailingZeros64(r) >= int(tz)
				if !inRange || !lowBits {
					failures++
					t.Errorf("op %d is64=%v off=%d: %#x, %#x -> %#x, abstract %+v tz %d from %+v (tz %d), %+v (tz %d)",
						op, is64, off, x, y, r, res, tz, a, ta, b, tb)
				}
			}
		}
	}
}
