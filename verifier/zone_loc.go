package verifier

// Locations are named by where a value is stored, not by an allocator, so
// that two states at a join name the same things the same way. The matrix
// is dense over the locations present and kept closed (every bound is the
// tightest the others imply) except right after widening.

// loc names a location.
type loc uint32

const (
	locZero loc = 0
	locPkt  loc = 1 // packet size: data_end - data
	locMeta loc = 2 // offset of data_meta relative to data (<= 0)
	// locZext holds a register's value between the two shifts of a zero
	// extension (zextPair); it lives for one instruction.
	locZext loc = 1 << 31
)

func locReg(r int) loc             { return loc(8 + r) }
func locSaved(frame, r int) loc    { return loc(64 + frame*16 + r) }
func locSpill(frame, off int) loc  { return loc(1<<12 + frame<<10 + off + 512) }
func locCounter(frame, pc int) loc { return loc(1<<24 + frame<<20 + pc) }
func isCounterLoc(l loc) bool      { return l >= 1<<24 && l < 1<<30 }
func ghostLoc(l loc) loc           { return 1<<30 | l }
func counterFrame(l loc) int       { return int(l-1<<24) >> 20 }
func isSpillLoc(l loc) bool        { return l >= 1<<12 && l < 1<<24 }
func spillFrame(l loc) int         { return int(l-1<<12) >> 10 }
func isSavedLoc(l loc) bool        { return l >= 64 && l < 64+16*16 }
func savedFrame(l loc) int         { return int(l-64) / 16 }
func regOfLoc(l loc) (int, bool)   { return int(l) - 8, l >= 8 && l < 8+16 }
func spillOffset(l loc) int        { return int(l-1<<12)&1023 - 512 }
func counterPC(l loc) int          { return int(l-1<<24) & (1<<20 - 1) }
func locIsFrameLocal(l loc, f int) bool {
	switch {
	case isSpillLoc(l):
		return spillFrame(l) == f
	case isSavedLoc(l):
		return savedFrame(l) == f
	case isCounterLoc(l):
		return counterFrame(l) == f
	}
	return false
}
