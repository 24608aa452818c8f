package verifier

import "testing"

// TestSignJoinShapes: the shapes of Cilium's datapath in
// testdata/signjoin (a field of a value of one of two maps, an error
// code's sign that decides which path's offset is used, an int bounded by
// two signed 32-bit tests, a helper's long result tested twice as an int,
// sixteen paths that must stay apart for a packet write, a register set
// on one path only, a NULL test of a copy of one of two lookups' results)
// are accepted, as Linux accepts them (TestSignJoinKernel), and their
// unsafe variants are refused on the line each marks. Each safe program was
// refused before paths.go kept values of different maps and numbers of
// opposite signs apart, signed32.go refined signed 32-bit tests,
// sub32.go kept what they say about a 64-bit value's low half and a
// block's input kept 16 states apart instead of 8 (decision 0030).
func TestSignJoinShapes(t *testing.T) {
	n := 0
	for name, err := range verifyObject(t, "testdata/signjoin/signjoin.o") {
		n++
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n != 7 {
		t.Errorf("%d programs verified, want 7", n)
	}
	checkRejections(t, "testdata/signjoin/signjoin_unsafe.c", "testdata/signjoin/signjoin_unsafe.o")
}

// TestRefineS32 checks refineS32 on each half of the zero-extended 32-bit
// range and across it.
func TestRefineS32(t *testing.T) {
	all := urange(0, 1<<32-1)
	for _, tt := range []struct {
		name   string
		r      rel
		d      ival
		c      int64
		lo, hi uint64
		none   bool
	}{
		{"s< 0 keeps the negative half", relSLT, all, 0, 1 << 31, 1<<32 - 1, false},
		{"s>= 0 keeps the non-negative half", relSGE, all, 0, 0, 1<<31 - 1, false},
		{"s> -1 keeps the non-negative half", relSGT, all, -1, 0, 1<<31 - 1, false},
		{"s<= -1 keeps the negative half", relSLE, all, -1, 1 << 31, 1<<32 - 1, false},
		{"s< 16 keeps both halves: the hull", relSLT, all, 16, 0, 1<<32 - 1, false},
		{"s< 16 of the non-negative half", relSLT, urange(0, 1<<31-1), 16, 0, 15, false},
		{"s>= -8 of the negative half", relSGE, urange(1<<31, 1<<32-1), -8, 1<<32 - 8, 1<<32 - 1, false},
		{"s< 0 of the non-negative half: nothing", relSLT, urange(5, 100), 0, 0, 0, true},
		{"s< min: nothing", relSLT, all, -1 << 31, 0, 0, true},
	} {
		got, ok := refineS32(tt.r, tt.d, tt.c)
		switch {
		case ok == tt.none:
			t.Errorf("%s: ok %v", tt.name, ok)
		case ok && (got.umin != tt.lo || got.umax != tt.hi):
			t.Errorf("%s: [%d, %d], want [%d, %d]", tt.name, got.umin, got.umax, tt.lo, tt.hi)
		}
	}
}
