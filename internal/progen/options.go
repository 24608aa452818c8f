package progen

// Defaults and limits of Options.
const (
	// DefaultMaxLen is the body length Options.MaxLen 0 stands for.
	DefaultMaxLen = 64
	// MaxMaxLen is the largest body length accepted; longer requests are cut
	// to it so that every jump offset fits the 16-bit offset field.
	MaxMaxLen = 8192
	// DefaultMaxIterations is the trip-count bound Options.MaxIterations 0
	// stands for.
	DefaultMaxIterations = 64
	// MaxMaxIterations is the largest trip-count bound accepted.
	MaxMaxIterations = 1024
)

// Slots outside the body: the prologue loads r0..r9 (lddw, two slots each);
// the epilogue folds nine registers and up to maxFoldedSlots stack slots, five
// and six slots each, and exits.
const (
	prologueSlots  = 20
	foldSlots      = 5
	maxFoldedSlots = 16
	epilogueSlots  = 9*foldSlots + maxFoldedSlots*(foldSlots+1) + 1
)

// Options select what generated programs contain. The zero value gives
// straight-line programs of ALU operations, constants and stack accesses.
type Options struct {
	// MaxLen is the most slots the random body takes (lddw counts two); each
	// program's body is between 1 and MaxLen slots long. 0 means
	// DefaultMaxLen; values above MaxMaxLen are cut to it. The prologue and
	// epilogue add at most Overhead slots.
	MaxLen int
	// Jumps adds forward conditional jumps over nested blocks.
	Jumps bool
	// Loops adds bounded loops (backward jumps).
	Loops bool
	// MaxIterations bounds the product of the trip counts of nested loops,
	// and so how often any body instruction runs. 0 means
	// DefaultMaxIterations; values above MaxMaxIterations are cut to it.
	MaxIterations int
	// Atomics adds atomic operations on stack slots.
	Atomics bool
	// V4 adds the ISA v4 forms: sdiv, smod, movsx, bswap, sign-extending
	// loads and gotol.
	V4 bool
}

// Overhead is the most slots a program has besides its body: the prologue
// and the epilogue.
const Overhead = prologueSlots + epilogueSlots

// normalized returns the options with defaults filled in and limits applied.
func (o Options) normalized() Options {
	if o.MaxLen <= 0 {
		o.MaxLen = DefaultMaxLen
	}
	o.MaxLen = min(o.MaxLen, MaxMaxLen)
	if o.MaxIterations <= 0 {
		o.MaxIterations = DefaultMaxIterations
	}
	o.MaxIterations = min(o.MaxIterations, MaxMaxIterations)
	return o
}

// MaxSlots returns the most slots a program generated with the options has.
func (o Options) MaxSlots() int { return o.normalized().MaxLen + Overhead }

// StepLimit returns the most instructions a run of a program generated with
// the options can execute, counting an lddw as two: each body slot runs at
// most MaxIterations times (once without Loops), the rest once. It is a
// budget for engines and a bound for tests.
func (o Options) StepLimit() uint64 {
	o = o.normalized()
	iters := 1
	if o.Loops {
		iters = o.MaxIterations
	}
	return uint64(o.MaxLen)*uint64(iters) + Overhead
}
