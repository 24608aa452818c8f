package verifier

import (
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// The verifier's cost is bounded like Linux's: a program may make the
// analysis process at most MaxInstructions instructions in all (loops and
// calls count every time, as in BPF_COMPLEXITY_LIMIT_INSNS), keep at most
// MaxStateBytes of abstract states at once, and run at most Timeout. A
// limit that is reached rejects the program; nothing is accepted on a
// partial analysis.
//
// What keeps honest programs well inside those limits:
//   - states are kept only while something still reads them: a block's
//     output until every successor has taken its input, a loop head's
//     input until the loop's final pass is over (release); a block outside
//     loops with a single incoming state takes it over without a copy
//     (sole);
//   - a function called again with an entry state equal to one it was
//     analysed from reuses that analysis's exit state (summaries), so a
//     call chain that calls the same function many times costs what its
//     distinct entry states cost, not the product of the call counts; a
//     function whose calls never repeat a state is no longer kept, and its
//     analyses then work on their entry and hand over their exit without
//     copies (worthKeeping, takeExit).

// Limits bound the work of one verification. The zero value means the
// defaults.
type Limits struct {
	// MaxInstructions bounds how many instructions the analysis may
	// process in all, counting every pass over a loop body and every
	// analysis of a called function. 0 means DefaultMaxInstructions.
	MaxInstructions int
	// MaxStateBytes bounds the memory of the abstract states kept at once
	// (the relational matrices, registers and stack frames), in bytes.
	// 0 means DefaultMaxStateBytes.
	MaxStateBytes int64
	// Timeout bounds the analysis's wall-clock time. 0 means
	// DefaultTimeout; a negative value means none.
	Timeout time.Duration
	// Deadline, if set, also stops the analysis at that time: a loader
	// that verifies several programs sets it so that Timeout bounds them
	// all together.
	Deadline time.Time
}

// Default limits.
const (
	// DefaultMaxInstructions is Limits.MaxInstructions's default, Linux's
	// BPF_COMPLEXITY_LIMIT_INSNS.
	DefaultMaxInstructions = 1_000_000
	// DefaultMaxStateBytes is Limits.MaxStateBytes's default.
	DefaultMaxStateBytes = 256 << 20
	// DefaultTimeout is Limits.Timeout's default.
	DefaultTimeout = 10 * time.Second
)

// LimitError says which limit stopped the analysis. A *VerifierError
// that stopped at a limit unwraps to it, and it unwraps to ErrLimit.
type LimitError struct {
	// Limit names the limit: "instructions", "program size", "state
	// memory", "time", "deadline", "loop nesting", "call chains" or
	// "block iterations".
	Limit string
	// Max is the limit's value, as the message prints it.
	Max string
	// Value is what exceeded it, where known ("1048576" instructions).
	Value string
	// Option is the field that raises it ("Limits.MaxInstructions").
	Option string
}

func (e *LimitError) Error() string {
	var what string
	switch e.Limit {
	case "instructions":
		what = "more than " + e.Max + " instructions processed, the complexity limit (copies and joins of large states count as the instructions they cost)"
	case "state memory":
		what = "the abstract states kept exceed " + e.Max
	case "program size":
		what = "the program's " + e.Value + " instructions exceed the " + e.Max + " the complexity limit allows to process"
	case "time":
		what = "the analysis took longer than " + e.Max
	case "loop nesting":
		what = "the loops nest too deeply: ordering a function's blocks takes more than " + e.Max + " steps"
	case "call chains":
		what = "the call graph has more than " + e.Max + " call chains to check for their combined stack"
	case "deadline":
		what = "the time allowed for verification ran out (deadline " + e.Max + ")"
	default:
		what = "more than " + e.Max + " " + e.Limit
	}
	return fmt.Sprintf("%v: %s; the program is rejected (raise %s to allow more)", ErrLimit, what, e.Option)
}

// Unwrap makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Unwrap() error { return ErrLimit }

func (l Limits) maxInstructions() int {
	if l.MaxInstructions <= 0 {
		return DefaultMaxInstructions
	}
	return l.MaxInstructions
}

func (l Limits) maxStateBytes() int64 {
	if l.MaxStateBytes <= 0 {
		return DefaultMaxStateBytes
	}
	return l.MaxStateBytes
}

func (l Limits) timeout() time.Duration {
	switch {
	case l.Timeout == 0:
		return DefaultTimeout
	case l.Timeout < 0:
		return 0
	}
	return l.Timeout
}

// stop records the limit reached and returns errStop, which unwinds the
// analysis.
func (a *analyzer) stop(le *LimitError) error {
	a.limit = le
	return errStop
}

// wtoBudget is how many steps ordering a function's blocks may take
// (buildWTO): a few per block, and for nested loops a few per block and
// loop around it. n nested loops take n*n/2, which is what the budget
// bounds.
func (a *analyzer) wtoBudget() int { return 4 * a.opts.maxInstructions() }

// checkSize rejects a program longer than the instructions the analysis
// may process: each instruction is processed at least once (as in Linux,
// which refuses programs beyond BPF_COMPLEXITY_LIMIT_INSNS outright).
func (a *analyzer) checkSize() error {
	if err := a.checkDeadline(); err != nil {
		return err
	}
	if lim := a.opts.maxInstructions(); len(a.prog) > lim {
		return a.stop(&LimitError{Limit: "program size", Value: fmt.Sprint(len(a.prog)), Max: fmt.Sprint(lim), Option: "Limits.MaxInstructions"})
	}
	return nil
}

// maxErrors is how many problems an analysis collects before it stops: a
// program with a problem on every instruction must not cost a message per
// instruction and analysis.
const maxErrors = 1000

// charge counts one pass over a block of n slots against the limits.
func (a *analyzer) charge(n int) error {
	if len(a.errs) >= maxErrors || a.firstProblem && len(a.errs) > 0 {
		return errEnough
	}
	a.iters++
	a.insns += n
	max := a.opts.MaxIterations
	if max <= 0 {
		max = DefaultMaxIterations
	}
	if a.iters > max {
		return a.stop(&LimitError{Limit: "block iterations", Max: fmt.Sprint(max), Option: "Options.MaxIterations"})
	}
	if lim := a.opts.maxInstructions(); a.cost() > int64(lim) {
		return a.stop(&LimitError{Limit: "instructions", Max: fmt.Sprint(lim), Option: "Limits.MaxInstructions"})
	}
	// The clock is read every few blocks: a block costs at most a few
	// operations on the zone, each at most quadratic in its size, which
	// the state memory limit bounds.
	if a.iters%16 == 0 {
		if t := a.opts.timeout(); t > 0 && time.Since(a.start) > t {
			return a.stop(&LimitError{Limit: "time", Max: t.String(), Option: "Limits.Timeout"})
		}
		return a.checkDeadline()
	}
	return nil
}

// checkDeadline stops the analysis past Limits.Deadline.
func (a *analyzer) checkDeadline() error {
	if d := a.opts.Deadline; !d.IsZero() && time.Now().After(d) {
		return a.stop(&LimitError{Limit: "deadline", Max: d.UTC().Format(time.RFC3339Nano), Option: "Limits.Timeout"})
	}
	return nil
}

// cellsPerInsn is how many cells of relational matrices copied or joined
// count as one instruction processed. An instruction costs Linux about the
// same whatever the state, but copying and joining states costs bpfhost
// time quadratic in the numbers a state tracks: a program whose states
// track hundreds of numbers (many stack slots over many frames) counts
// its copies as the instructions they cost, so that the complexity limit
// bounds time as it does in Linux.
const cellsPerInsn = 512

// chargeCells counts n matrix cells copied or joined.
func (a *analyzer) chargeCells(n int) {
	if a != nil {
		a.cells += int64(n)
	}
}

// cost is the work done so far in instructions: those processed and the
// equivalent of the states copied and joined.
func (a *analyzer) cost() int64 { return int64(a.insns) + a.cells/cellsPerInsn }

// stateBytes estimates the memory a state holds: its zone's matrix and
// locations, its frames and its own fields. Frames shared with other
// states are counted in each, which errs on the safe side.
func stateBytes(s *state) int64 {
	if s == nil {
		return 0
	}
	n := int64(unsafe.Sizeof(*s)) + int64(cap(s.refs))*4
	if s.z != nil {
		n += int64(unsafe.Sizeof(*s.z)) + int64(cap(s.z.m))*8 + int64(cap(s.z.locs))*4
	}
	for _, f := range s.frames {
		n += int64(unsafe.Sizeof(*f)) + int64(cap(f.spill))*int64(unsafe.Sizeof(spill{}))
	}
	return n
}

// account adds delta bytes to the states kept and checks the limit.
func (a *analyzer) account(delta int64) error {
	a.kept += delta
	if a.kept > a.peak {
		a.peak = a.kept
	}
	if lim := a.opts.maxStateBytes(); delta > 0 && a.kept > lim {
		return a.stop(&LimitError{Limit: "state memory", Max: byteSize(lim), Option: "Limits.MaxStateBytes"})
	}
	return nil
}

// byteSize prints a size in bytes the way people read it.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// setOut stores the states a block leaves on each of its edges.
func (a *analyzer) setOut(r *run, v int, outs [][]*state) error {
	var n int64
	for _, edge := range outs {
		for _, s := range edge {
			n += stateBytes(s)
		}
	}
	old := r.outBytes[v]
	r.out[v], r.outBytes[v] = outs, n
	r.bytes += n - old
	return a.account(n - old)
}

// setIn stores a loop head's input.
func (a *analyzer) setIn(r *run, h int, s *state) error {
	n := stateBytes(s)
	old := r.inBytes[h]
	r.in[h], r.inBytes[h] = s, n
	r.bytes += n - old
	return a.account(n - old)
}

// reset empties a run's stored states for a new attempt.
func (a *analyzer) reset(r *run, blocks int) {
	// The tables cost a few words per block, whether the blocks are
	// reached or not.
	a.chargeCells(6 * blocks)
	a.kept -= r.bytes
	r.bytes = 0
	r.in = make([]*state, blocks)
	r.out = make([][][]*state, blocks)
	sizes := make([]int64, 2*blocks)
	r.inBytes, r.outBytes = sizes[:blocks:blocks], sizes[blocks:]
}

// done gives back what a finished run kept.
func (a *analyzer) done(r *run) {
	a.kept -= r.bytes
	r.bytes = 0
	r.in, r.out, r.inBytes, r.outBytes = nil, nil, nil, nil
}

// plan says, for each top-level element of a function's weak topological
// order, which blocks' outputs are no longer read once the element's final
// pass is over: those whose every successor lies in it or in an element
// before it. (Successors never lie in earlier elements except through a
// back edge, which stays inside one element.) Element k's blocks are
// blocks[start[k]:start[k+1]], one array for all, as a long program has
// as many elements as blocks.
type plan struct {
	start  []int32
	blocks []int32
}

func (p *plan) at(k int) []int32 { return p.blocks[p.start[k]:p.start[k+1]] }

func releasePlan(fn *function) *plan {
	top := make([]int32, len(fn.blocks))
	for i := range top {
		top[i] = -1
	}
	var mark func(ws []wto, k int32)
	mark = func(ws []wto, k int32) {
		for _, w := range ws {
			top[w.v] = k
			mark(w.body, k)
		}
	}
	for k, w := range fn.wto {
		top[w.v] = int32(k)
		mark(w.body, int32(k))
	}
	// last[v] is the element after which block v's output is dropped.
	last := append([]int32(nil), top...)
	p := &plan{start: make([]int32, len(fn.wto)+1)}
	for v, b := range fn.blocks {
		if top[v] < 0 {
			continue // unreachable: never processed
		}
		for _, s := range b.succs {
			last[v] = max(last[v], top[s])
		}
		p.start[last[v]+1]++
	}
	for k := 1; k < len(p.start); k++ {
		p.start[k] += p.start[k-1]
	}
	p.blocks = make([]int32, p.start[len(p.start)-1])
	fill := append([]int32(nil), p.start[:len(fn.wto)]...)
	for v := range fn.blocks {
		if k := last[v]; k >= 0 {
			p.blocks[fill[k]] = int32(v)
			fill[k]++
		}
	}
	return p
}

// release drops what element k's final pass leaves unread: the outputs of
// the blocks plan lists and the inputs of the element's loop heads.
func (a *analyzer) release(r *run, w wto, blocks []int32) {
	for _, v := range blocks {
		a.kept -= r.outBytes[v]
		r.bytes -= r.outBytes[v]
		r.out[v], r.outBytes[v] = nil, 0
	}
	var heads func(w wto)
	heads = func(w wto) {
		if !w.comp {
			return
		}
		a.kept -= r.inBytes[w.v]
		r.bytes -= r.inBytes[w.v]
		r.in[w.v], r.inBytes[w.v] = nil, 0
		for _, x := range w.body {
			heads(x)
		}
	}
	heads(w)
}

// sole reports whether edge i of block p, into v, is the only edge into v
// with a state: then v's input is that state, which nothing else reads.
func (a *analyzer) sole(r *run, v, p, i int) bool {
	for _, q := range r.fn.blocks[v].preds {
		for j, s := range r.fn.blocks[q].succs {
			if s == v && (q != p || j != i) && j < len(r.out[q]) && hasState(r.out[q][j]) {
				return false
			}
		}
	}
	return true
}

// hasState reports whether an edge holds a state.
func hasState(edge []*state) bool {
	for _, s := range edge {
		if s != nil {
			return true
		}
	}
	return false
}

// summary is one analysis of a function from an entry state, kept so that
// a later call with an equal entry state reuses its exit.
type summary struct {
	kind  callKind
	cb    *callbackInfo
	check bool // the analysis reported its problems
	inCB  bool // the analysis ran inside a callback, where more is refused
	entry *state
	exit  *state
	exits []*state // kept apart (callexits.go)
}

// summaries are the analyses of one function kept, and how often they
// were looked up and found.
type summaries struct {
	list          []*summary
	lookups, hits int
}

// maxSummaries is how many analyses of one function are kept.
const maxSummaries = 8

// worthKeeping says whether to keep the next analysis of the function at
// start: always for its first few, then only while a good share of its
// lookups find one. A function that is always called from new states
// (F8's chain) is not worth the copies: its analyses then work on their
// entry state and hand their exit to the caller without copying.
func (a *analyzer) worthKeeping(start int) bool {
	f := a.summaries[start]
	return f == nil || f.lookups < 2*maxSummaries || 8*f.hits >= f.lookups
}

// takeExit returns a state the caller may change: x itself when the
// analysis that returned it kept no summary of it, else a copy. The
// copy saved is charged all the same: what a limit counts does not
// depend on which analyses were kept.
func (a *analyzer) takeExit(x *state) *state {
	if x == a.ownedExit {
		a.ownedExit = nil
		a.chargeCells(len(x.z.m))
		return x
	}
	return x.clone()
}

// lookup returns the exit state of an earlier analysis of the function at
// start from an entry state equal to entry. The analysis is a function of
// its entry state, so its exit, and what it recorded on the way (problems,
// context accesses, stack use), are those of the earlier one; one that did
// not report its problems stands in only for one that needs not either.
func (a *analyzer) lookup(start int, entry *state, check bool, kind callKind, cb *callbackInfo) (*summary, bool) {
	f := a.summaries[start]
	if f == nil {
		return nil, false
	}
	f.lookups++
	for _, s := range f.list {
		if s.kind == kind && sameCallback(s.cb, cb) && s.inCB == (a.inCB > 0) && (s.check || !check) && s.entry.equal(entry) {
			f.hits++
			return s, true
		}
	}
	return nil, false
}

func sameCallback(x, y *callbackInfo) bool {
	if x == nil || y == nil {
		return x == y
	}
	return x.proto == y.proto && x.ret == y.ret
}

// remember keeps the analysis of the function at start from entry, the
// oldest giving way when there are maxSummaries already. Summaries save
// work but are not needed: they take at most a quarter of the state
// memory limit, beyond which new ones are not kept. It reports whether
// it kept this one.
func (a *analyzer) remember(start int, entry, exit *state, exits []*state, check bool, kind callKind, cb *callbackInfo) (bool, error) {
	if a.summaries == nil {
		a.summaries = map[int]*summaries{}
	}
	f := a.summaries[start]
	if f == nil {
		f = &summaries{}
		a.summaries[start] = f
	}
	n := stateBytes(entry) + stateBytes(exit) + statesBytes(exits)
	list := f.list
	if len(list) >= maxSummaries {
		old := list[0]
		a.forget(stateBytes(old.entry) + stateBytes(old.exit) + statesBytes(old.exits))
		list = append(list[:0], list[1:]...)
	}
	if a.summaryBytes+n > a.opts.maxStateBytes()/4 {
		f.list = list
		return false, nil
	}
	f.list = append(list, &summary{kind: kind, cb: cb, check: check, inCB: a.inCB > 0, entry: entry, exit: exit, exits: exits})
	a.summaryBytes += n
	return true, a.account(n)
}

// forget gives back the memory of a summary dropped.
func (a *analyzer) forget(n int64) {
	a.summaryBytes -= n
	a.kept -= n
}

// limitError returns the limit reached, if the analysis stopped at one.
func (a *analyzer) limitError() (*LimitError, bool) {
	var le *LimitError
	ok := errors.As(a.limit, &le)
	return le, ok
}
