package verifier

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// The fixpoint engine. A function is analysed with the state its caller
// passes (the entry function with the program type's entry state): its
// blocks are processed in weak topological order, loops are iterated to a
// fixpoint with widening at their heads and then narrowed, and a final
// pass with the resulting states checks every instruction and reports what
// may go wrong (solve interleaves the two). Calls analyse the callee the
// same way, from the call's state, so that pointers into the caller's
// stack and the caller's precise argument values carry over; a callee is
// therefore analysed once per call site and iteration of its caller.
// States share their stack frames until one changes them (state.frameW).

const (
	widenDelay   = 2  // iterations of a loop before widening starts
	widenRounds  = 32 // rounds of widening with thresholds, then as many without
	narrowPasses = 2
)

// testHooks let this package's tests start from a given state (the PREVAIL
// YAML cases) and see the state at exit.
type testHooks struct {
	pre          func(s *state, a *analyzer)
	exit         func(s *state)
	noExitChecks bool         // exit accepts any r0 and held resources
	synthetic    map[int]bool // exits added by the test: no checks there
	sink         int          // states flowing into this slot vanish (assume)
	noTerm       bool         // do not prove termination
	divByZero    bool         // report possible division by zero
	mapAsFD      bool
	paths        int // states kept apart at a block's input, if not 0 (paths.go)
	// compared sees the two states of each loop head check, in and
	// r.in[h] of leq(in, r.in[h]).
	compared func(a, b *state)
}

type analyzer struct {
	prog  []isa.Instruction
	opts  *Options
	maps  []*MapInfo
	funcs map[int]*function
	ends  map[int]int // function start -> end

	errs     []Error
	seen     map[string]bool
	ctxUse   []uint8 // by pc: 1 context, 2 other memory, 4 through a BTF pointer
	probe    []bool  // by pc: a load through a BTF pointer (btfptr.go); nil if none
	mapArgs  []int32 // by pc: a helper call's map argument (facts.go)
	tailCall bool    // a bpf_tail_call was reached
	// readsUnwritten: the program may read unwritten bytes of the entry
	// frame (Result.ZeroEntryFrame).
	readsUnwritten bool
	calls          map[int]map[int]bool
	used           map[int]int // function start -> lowest stack offset used
	active         []int       // functions being analysed (recursion)
	inCB           int         // callbacks being analysed (nesting)
	iters          int
	insns          int   // instructions processed (Limits.MaxInstructions)
	cells          int64 // matrix cells copied and joined (limits.go)
	states         int
	kept           int64 // bytes of the states kept (Limits.MaxStateBytes)
	peak           int64
	start          time.Time
	limit          error
	loopMax        int64
	merged         map[string]int32 // synthetic maps standing for several
	mapIndex       map[*MapInfo]int32
	innerIndex     map[*MapInfo]int32 // inner map templates' ids (innerID)
	parts          map[int32][]int32
	ptrParts       map[int32][]int32 // synthetic map pointers standing for several (mapjoin.go)
	scratch        [2]*state         // reused for short-lived copies (input)
	paths          int               // states a block's input keeps apart (paths.go)
	// firstProblem stops the analysis at the first problem found: its
	// findings will not be reported (verifyPaths analyses again).
	firstProblem bool

	summaries    map[int]*summaries // by function start (limits.go)
	ownedExit    *state             // an exit no summary holds (takeExit)
	callExits    []*state           // the last analysis's exits kept apart (callexits.go)
	summaryBytes int64
	// sockView describes what kSocket values of each region point to
	// (socket.go), from the prototypes of the lookups that made them.
	sockView [3]*platform.ContextDescriptor
	// iterNexts maps each bpf_iter_num_next call of an analysis of a
	// function (a run: a subprogram is analysed at each call) to the
	// iterator it steps (-1: different ones on different paths), for
	// iterBounded.
	iterNexts map[*run]map[int]int32

	// readsUnwrittenCalls: the program may read unwritten bytes of a
	// frame a call entered (Result.ZeroCallFrames).
	readsUnwrittenCalls bool
}

// mergeMaps returns the id of a map standing for the values of either x or
// y: the smallest value size, read-only if either is.
func (a *analyzer) mergeMaps(x, y int32) int32 {
	if x == y {
		return x
	}
	ids, key := unionOfMaps(a.parts, x, y)
	if id, ok := a.merged[key]; ok {
		return id
	}
	m := &MapInfo{ValueSize: math.MaxUint32, Type: a.maps[ids[0]].Type}
	for i, id := range ids {
		mi := a.maps[id]
		if i > 0 {
			m.Name += " or "
		}
		m.Name += mi.Name
		m.ValueSize = min(m.ValueSize, mi.ValueSize)
		m.ReadOnlyProg = m.ReadOnlyProg || mi.ReadOnlyProg
		m.WriteOnlyProg = m.WriteOnlyProg || mi.WriteOnlyProg
	}
	id := a.addMap(m)
	if a.merged == nil {
		a.merged, a.parts = map[string]int32{}, map[int32][]int32{}
	}
	a.merged[key] = id
	a.parts[id] = ids
	return id
}

func newAnalyzer(prog []isa.Instruction, opts *Options) *analyzer {
	a := &analyzer{
		prog: prog, opts: opts, funcs: map[int]*function{}, ends: map[int]int{},
		seen: map[string]bool{}, ctxUse: make([]uint8, len(prog)), mapArgs: make([]int32, len(prog)), calls: map[int]map[int]bool{}, used: map[int]int{},
		loopMax: opts.MaxLoopIterations, paths: maxDisjuncts,
	}
	if opts.test != nil && opts.test.paths > 0 {
		a.paths = opts.test.paths
	}
	if a.loopMax <= 0 {
		a.loopMax = DefaultMaxLoopIterations
	}
	for pc := range a.mapArgs {
		a.mapArgs[pc] = mapArgUnseen
	}
	for i := range opts.Maps {
		a.addMap(&opts.Maps[i])
	}
	starts := functionStarts(prog)
	for i, s := range starts {
		e := len(prog)
		if i+1 < len(starts) {
			e = starts[i+1]
		}
		a.ends[s] = e
	}
	return a
}

// mapID returns the id of a map descriptor, registering inner maps (and
// the key views of callbacks, one per analysis of a callback: an index,
// not a scan, finds them).
func (a *analyzer) mapID(m *MapInfo) int32 {
	if id, ok := a.mapIndex[m]; ok {
		return id
	}
	return a.addMap(m)
}

// addMap registers a map descriptor and returns its id.
func (a *analyzer) addMap(m *MapInfo) int32 {
	id := int32(len(a.maps))
	a.maps = append(a.maps, m)
	if a.mapIndex == nil {
		a.mapIndex = map[*MapInfo]int32{}
	}
	if _, ok := a.mapIndex[m]; !ok {
		a.mapIndex[m] = id // the first id of a descriptor, as the scan found
	}
	return id
}

// function returns the CFG of the function at start, nil if its loops
// nest too deeply to order within the complexity limit (wtoBudget).
func (a *analyzer) function(start int) *function {
	if fn, ok := a.funcs[start]; ok {
		return fn
	}
	fn := buildFunction(a.prog, start, a.ends[start], a.wtoBudget())
	a.funcs[start] = fn
	return fn
}

func (a *analyzer) where(pc int) string {
	if a.opts.Lines != nil {
		if s := a.opts.Lines(pc); s != "" {
			return s
		}
	}
	return fmt.Sprintf("insn %d", pc)
}

func (a *analyzer) report(pc int, format string, args ...any) {
	if len(a.errs) >= maxErrors {
		return // enough to reject (charge stops the analysis)
	}
	msg := fmt.Sprintf(format, args...)
	key := fmt.Sprintf("%d\x00%s", pc, msg)
	if a.seen[key] {
		return
	}
	a.seen[key] = true
	e := Error{PC: pc, Message: msg}
	if a.opts.Lines != nil && pc >= 0 {
		e.Source = a.opts.Lines(pc)
	}
	a.errs = append(a.errs, e)
}

var (
	errStop = errors.New("stop")
	// errEnough stops an analysis that found maxErrors problems: the
	// program is rejected whatever else it finds.
	errEnough = errors.New("enough problems")
)

func (a *analyzer) verify() (*Result, error) {
	if a.start.IsZero() {
		a.start = time.Now()
	}
	var exit *state
	err := a.checkSize()
	if err == nil {
		exit, err = a.analyze(0, a.entryState(), true, callNone, nil)
	}
	if h := a.opts.test; err == nil && h != nil && h.exit != nil {
		h.exit(exit)
	}
	res := &Result{Instructions: len(a.prog), Iterations: a.iters, Processed: int(a.cost()), States: a.states,
		PeakStateBytes: a.peak, Duration: time.Since(a.start)}
	enough := errors.Is(err, errEnough) || len(a.errs) >= maxErrors
	if enough {
		err = nil
	} else if err == nil {
		err = a.checkStack(res)
	}
	if err != nil {
		ve := &VerifierError{Program: a.opts.Name, limit: true}
		ve.Limit, _ = a.limitError()
		ve.Errors = append(ve.Errors, Error{PC: -1, Message: a.limit.Error()})
		return nil, ve
	}
	a.checkKfuncNames()
	for pc, u := range a.ctxUse {
		if u == 3 {
			a.report(pc, "instruction accesses the context on some paths and other memory on others")
		}
		if u&4 != 0 && u != 4 {
			a.report(pc, "instruction reads through a kernel (BTF) pointer on some paths and other memory on others")
		}
	}
	if len(a.errs) > 0 {
		sort.SliceStable(a.errs, func(i, j int) bool { return a.errs[i].PC < a.errs[j].PC })
		if enough {
			a.errs = append(a.errs, Error{PC: -1, Message: fmt.Sprintf("the analysis stopped after %d problems", maxErrors)})
		}
		return nil, &VerifierError{Program: a.opts.Name, Errors: a.errs}
	}
	for pc, u := range a.ctxUse {
		if u == 1 {
			res.ContextAccesses = append(res.ContextAccesses, pc)
		}
	}
	sort.Ints(res.ContextAccesses)
	a.facts(res)
	a.probeFacts(res)
	return res, nil
}

// checkStack applies Linux's limit on the combined stack of a call chain,
// each frame rounded up to 32 bytes. The chains of the call graph can be
// exponentially many: walking them counts against the complexity limit.
func (a *analyzer) checkStack(res *Result) error {
	// Frames are rounded up to 16 bytes, as Linux does for a program it
	// JIT-compiles (its interpreter rounds to 32); bpfhost gives every
	// frame its own 512 bytes, so this limit is Linux's rule, not safety.
	size := func(fn int) int { return (-a.used[fn] + 15) &^ 15 }
	var worst, steps int
	lim := a.opts.maxInstructions()
	var walk func(fn int, total int, seen map[int]bool)
	walk = func(fn int, total int, seen map[int]bool) {
		if steps++; steps > lim {
			return
		}
		a.checkTailCallers(fn, total)
		total += size(fn)
		if total > worst {
			worst = total
		}
		if total > MaxStack {
			a.report(fn, "combined stack of %d bytes along a call chain exceeds %d", total, MaxStack)
			return
		}
		for callee := range a.calls[fn] {
			if !seen[callee] {
				seen[callee] = true
				walk(callee, total, seen)
				delete(seen, callee)
			}
		}
	}
	walk(0, 0, map[int]bool{0: true})
	if steps > lim {
		return a.stop(&LimitError{Limit: "call chains", Max: fmt.Sprint(lim), Option: "Limits.MaxInstructions"})
	}
	res.MaxStack = worst
	return nil
}

// entryState builds the state at program entry from the program type.
func (a *analyzer) entryState() *state {
	s := &state{z: newZone(), a: a}
	s.frames = []*frame{{fn: 0}}
	s.ownAll()
	for r := range s.regs {
		s.regs[r] = uninit
	}
	s.set(10, value{kind: kStack, region: 0}, constIval(0))
	// Packet bounds: Linux's MAX_PACKET_OFF; data_meta lies up to
	// MaxMetaSize bytes before data.
	t := a.opts.Type
	s.z.setBounds(locPkt, 0, int64(t.PacketSizeLimit()))
	s.z.setBounds(locMeta, -platform.MaxMetaSize, 0)
	for i, k := range t.EntryRegs() {
		r := i + 1
		switch k {
		case platform.RegContext:
			if t.Context != nil {
				s.set(r, value{kind: kCtx}, constIval(0))
			}
		case platform.RegPacketData:
			s.set(r, value{kind: kPacket}, constIval(0))
		case platform.RegPacketLength:
			s.regs[r] = value{kind: kScalar, umin: 0, umax: t.PacketSizeLimit()}
			s.z.copyLoc(locReg(r), locPkt)
		}
	}
	if h := a.opts.test; h != nil && h.pre != nil {
		h.pre(s, a)
	}
	return s
}

// callKind says how a function is being analysed.
type callKind uint8

const (
	callNone     callKind = iota // the entry function
	callLocal                    // a BPF-to-BPF call
	callCallback                 // a helper's callback
)

// run is the analysis of one function from one entry state.
type run struct {
	fn    *function
	depth int
	kind  callKind
	cb    *callbackInfo
	entry *state
	in    []*state
	// out holds per block, per successor index, the states the block
	// leaves on that edge: one per state of its input (paths.go).
	out [][][]*state
	// inBytes and outBytes are the sizes of in and out as accounted when
	// stored, bytes their sum (limits.go).
	inBytes  []int64
	outBytes []int64
	bytes    int64
	exit     *state
	// exits are the exit states kept apart (callexits.go), with whether
	// each is a state of their own.
	exits      []*state
	exitsFresh []bool
	check      bool
	narrow     bool
	ownEntry   bool // the run may change its entry state (analyze)
	steal      bool // inputs may take over their edges' states (solve)
	verbose    bool
	failed     bool // the check pass found a head not covering its inputs
	// bounds are the ranges proven for counters at loop heads (stride.go).
	bounds map[int]countBound
	// ptrBounds are the ranges proven for strided pointers at loop heads
	// (strideptr.go).
	ptrBounds map[int][]ptrBound
	// entryOf replaces the states entering a loop head from outside its
	// loop while one group of them is analysed (paths.go).
	entryOf map[int]*state
}

// analyze runs the fixpoint for the function starting at start from entry
// and returns the join of its states at exit (nil if it never returns).
// With check set it also reports every problem.
func (a *analyzer) analyze(start int, entry *state, check bool, kind callKind, cb *callbackInfo) (*state, error) {
	if s, ok := a.lookup(start, entry, check, kind, cb); ok {
		if a.opts.Verbose != nil && check {
			fmt.Fprintf(a.opts.Verbose, "%d: analysed before from the same state: exit reused\n", start)
		}
		a.callExits = s.exits
		return s.exit, nil
	}
	fn := a.function(start)
	if fn == nil {
		return nil, a.stop(&LimitError{Limit: "loop nesting", Max: fmt.Sprint(a.wtoBudget()), Option: "Limits.MaxInstructions"})
	}
	a.active = append(a.active, start)
	defer func() { a.active = a.active[:len(a.active)-1] }()
	r := &run{fn: fn, depth: entry.depth(), kind: kind, cb: cb, narrow: true}
	defer a.done(r)
	// An analysis kept as a summary must leave its entry state as it is;
	// one not kept may work on it, which it does when nothing reads the
	// entry again: in a function without loops, which is analysed in one
	// pass, never redone.
	keep := kind != callNone && a.worthKeeping(start)
	r.ownEntry = !keep && !slices.Contains(fn.heads, true)
	for attempt := 0; ; attempt++ {
		a.reset(r, len(fn.blocks))
		r.exit = nil
		r.exits, r.exitsFresh = nil, nil
		r.entry = entry
		r.failed = false
		r.bounds = nil
		r.ptrBounds = nil
		// Callers pass check=false during their own iterations: the
		// fixpoint states suffice, but they must be a post-fixpoint, which
		// the final pass confirms; it then runs quietly.
		if err := a.solve(r, check); err != nil {
			return nil, err
		}
		if !r.failed {
			break
		}
		if attempt > 0 {
			// Even without narrowing, a loop's states do not cover what
			// flows into it: they are no fixpoint, and accepting on them
			// would accept on a partial analysis.
			a.limit = fmt.Errorf("%w: the analysis of the function at %s did not reach a fixpoint", ErrLimit, a.where(start))
			return nil, errStop
		}
		// Narrowing lost the post-fixpoint property: redo without it.
		r.narrow = false
	}
	if keep {
		kept, err := a.remember(start, entry, r.exit, r.exits, check, kind, cb)
		if err != nil {
			return nil, err
		}
		keep = kept
	}
	if !keep {
		a.ownedExit = r.exit
	}
	a.callExits = r.exits
	return r.exit, nil
}

// solve finds the fixpoint of a function and makes the final pass over
// it. Each top-level element of the weak topological order is final once
// processed, so the two are interleaved: a block outside every loop is
// processed once, by the final pass, and a loop is iterated to its
// fixpoint and then passed over before the next element. The result is
// that of a full fixpoint followed by a full final pass.
func (a *analyzer) solve(r *run, check bool) error {
	if r.fn.release == nil {
		r.fn.release = releasePlan(r.fn)
	}
	plan := r.fn.release
	for k, w := range r.fn.wto {
		if !w.comp {
			// A block outside every loop is processed once, here, and is
			// the only reader of the states on its incoming edges: it may
			// take one over instead of copying it.
			r.steal = true
			err := a.final(r, check, func() error { return a.process(r, w.v) })
			r.steal = false
			if err != nil {
				return err
			}
			a.release(r, w, plan.at(k))
			continue
		}
		if groups := a.entryGroups(r, w); groups != nil {
			if err := a.componentGroups(r, w, groups, check); err != nil {
				return err
			}
			a.release(r, w, plan.at(k))
			continue
		}
		if err := a.loop(r, w, check); err != nil {
			return err
		}
		a.release(r, w, plan.at(k))
	}
	return nil
}

// loop solves the component w to its fixpoint, then passes over it once
// more as part of the final pass. Exits reached while iterating are not
// final: only those of the final pass are kept.
func (a *analyzer) loop(r *run, w wto, check bool) error {
	exit, exits, fresh := r.exit, r.exits, r.exitsFresh
	r.check, r.verbose = false, false
	if err := a.component(r, w); err != nil {
		return err
	}
	r.exit, r.exits, r.exitsFresh = exit, exits, fresh
	return a.final(r, check, func() error { return a.pass(r, []wto{w}) })
}

// final runs f as part of the final pass: with check set, problems are
// reported (and the states shown when verbose).
func (a *analyzer) final(r *run, check bool, f func() error) error {
	r.check = check
	r.verbose = check && a.opts.Verbose != nil
	defer func() { r.check, r.verbose = false, false }()
	return f()
}

// iterate processes a WTO list to a fixpoint.
func (a *analyzer) iterate(r *run, ws []wto) error {
	for _, w := range ws {
		if !w.comp {
			if err := a.process(r, w.v); err != nil {
				return err
			}
			continue
		}
		if err := a.component(r, w); err != nil {
			return err
		}
	}
	return nil
}

func (a *analyzer) component(r *run, w wto) error {
	h := w.v
	delete(r.bounds, h)
	delete(r.ptrBounds, h)
	bodyOnly := false
	for k := 0; ; k++ {
		in := a.input(r, h)
		if in == nil {
			// The head is not reached (yet), but the body may be, through a
			// jump into the middle of the loop (irreducible flow).
			if err := a.setIn(r, h, nil); err != nil {
				return err
			}
			if err := a.setOut(r, h, nil); err != nil {
				return err
			}
			if bodyOnly {
				return nil
			}
			bodyOnly = true
			if err := a.iterate(r, w.body); err != nil {
				return err
			}
			k = -1
			continue
		}
		old := r.in[h]
		if old != nil && k > 0 {
			if k >= widenDelay {
				// Thresholds for a few rounds, then straight to infinity, so
				// that programs with many constants still converge fast.
				// The widened zone is closed so that bounds implied through
				// relations are read back, but closure can also bring back
				// a bound widening just dropped, round after round; if the
				// loop has not settled after a while, stop closing, which
				// guarantees the end.
				switch {
				case k >= widenDelay+2*widenRounds:
					in = joinWith(old, in, opWidenOpen, nil, true)
				case k >= widenDelay+widenRounds:
					in = join(old, in, true, nil)
				default:
					in = join(old, in, true, r.fn.thresholds())
				}
			} else {
				in = join(old, in, false, nil)
			}
			if in.equal(old) {
				break
			}
		}
		if err := a.setIn(r, h, in); err != nil {
			return err
		}
		if err := a.processBlock(r, h, in); err != nil {
			return err
		}
		if err := a.iterate(r, w.body); err != nil {
			return err
		}
	}
	if err := a.boundCounted(r, w); err != nil {
		return err
	}
	if err := a.boundStrided(r, w); err != nil {
		return err
	}
	if !r.narrow {
		return nil
	}
	for k := 0; k < narrowPasses; k++ {
		in := a.headInput(r, h)
		if in == nil {
			break
		}
		n := narrowState(r.in[h], in)
		if n.equal(r.in[h]) {
			break
		}
		if err := a.setIn(r, h, n); err != nil {
			return err
		}
		if err := a.processBlock(r, h, n); err != nil {
			return err
		}
		if err := a.iterate(r, w.body); err != nil {
			return err
		}
	}
	return nil
}

// process computes a non-head block's input and output.
func (a *analyzer) process(r *run, v int) error {
	// The input of a block that heads no loop is not read again: it is
	// not kept. It may be several states kept apart (paths.go), each run
	// through the block on its own.
	ins, fresh := a.inputs(r, v, a.paths)
	if len(ins) == 0 {
		return a.setOut(r, v, nil)
	}
	var all [][]*state
	for i, in := range ins {
		if !fresh[i] {
			// An edge's state: copy it. (A fresh one, which nothing
			// else holds, is run on without a copy.)
			in = in.clone()
		}
		outs, err := a.runBlock(r, v, in)
		if err != nil {
			return err
		}
		if i == 0 {
			all = outs
			continue
		}
		all = appendEdges(all, outs)
	}
	return a.setOut(r, v, all)
}

// perEdge turns a block's output on each edge into the edges' lists of
// states.
func perEdge(outs []*state) [][]*state {
	if outs == nil {
		return nil
	}
	// One backing array for every edge's list; each list's capacity ends
	// at its own element, so appending to one copies it out.
	res := make([][]*state, len(outs))
	one := make([]*state, len(outs))
	for i, o := range outs {
		if o != nil {
			one[i] = o
			res[i] = one[i : i+1 : i+1]
		}
	}
	return res
}

// input joins the states on the edges into block v (and the entry state
// into the first block). Entering a loop sets its counter to 0, a back
// edge adds 1, and leaving a loop forgets it.
func (a *analyzer) input(r *run, v int) *state {
	ds, _ := a.inputs(r, v, 1)
	if len(ds) == 0 {
		return nil
	}
	return ds[0]
}

// inputs is input keeping up to k states apart where joining them would
// lose what paths.go says matters (k = 1: the join). It also reports, for
// each state, whether it is a new one that nothing else refers to.
func (a *analyzer) inputs(r *run, v, k int) ([]*state, []bool) {
	fn := r.fn
	b := fn.blocks[v]
	term := !(a.opts.test != nil && a.opts.test.noTerm)
	var acc *state
	fresh := false
	if v == 0 {
		acc = r.entry
		if fn.heads[0] && term {
			acc = acc.clone()
			fresh = true
			acc.z.setBounds(locCounter(r.depth, b.start), 0, 0)
		} else if r.ownEntry {
			fresh = true
			a.chargeCells(len(acc.z.m)) // as the copy saved (takeExit)
		}
	}
	ov, override := r.entryOf[v]
	if override {
		// One group of the loop's entries (componentGroups) stands for
		// them all.
		acc, fresh = ov.clone(), true
	}
	var ds []*state
	var dfresh []bool
	var live liveness
	if k > 1 {
		live = a.liveIn(fn)[v]
		if acc != nil {
			ds, dfresh, acc = append(ds, acc), append(dfresh, fresh), nil
		}
	}
	for _, p := range b.preds {
		outs := r.out[p]
		if outs == nil {
			continue
		}
		if override && !fn.inComponent(p, v) {
			continue
		}
		pb := fn.blocks[p]
		for i, s := range pb.succs {
			if s != v || i >= len(outs) {
				continue
			}
			for d, st := range outs[i] {
				if st == nil {
					continue
				}
				if k > 1 {
					st, own := a.edgeState(r, v, p, st)
					if !own && r.steal && v != 0 {
						// The block is processed once: nothing else
						// reads the edge's state, which it takes over.
						outs[i][d], own = nil, true
					}
					ds, dfresh = partition(ds, dfresh, st, own, live, k)
					continue
				}
				acc, fresh = a.joinInput(r, v, p, i, d, acc, fresh, st)
			}
		}
	}
	if k > 1 {
		return ds, dfresh
	}
	if acc != nil && acc == a.scratch[0] {
		acc = acc.clone()
	}
	if acc == nil {
		return nil, nil
	}
	return []*state{acc}, []bool{fresh}
}

// edgeState returns the state on an edge from p into v as v's input sees
// it: loop counters adjusted (changeCounters); own says it is a copy.
func (a *analyzer) edgeState(r *run, v, p int, st *state) (*state, bool) {
	if !a.countersChange(r, v, p) {
		return st, false
	}
	st = st.clone()
	a.changeCounters(r, v, p, st)
	return st, true
}

// countersChange reports whether the edge from p into v enters, repeats
// or leaves a loop, which changes the loop counters of its state.
func (a *analyzer) countersChange(r *run, v, p int) bool {
	fn := r.fn
	if fn.heads[v] && !(a.opts.test != nil && a.opts.test.noTerm) {
		return true
	}
	for _, h := range fn.blocks[p].heads {
		if !fn.inComponent(v, h) {
			return true
		}
	}
	return false
}

// changeCounters adjusts the loop counters of st, the state on an edge
// from p into v: leaving a loop forgets its counter, entering one sets it
// to 0 and its back edge adds 1.
func (a *analyzer) changeCounters(r *run, v, p int, st *state) {
	fn := r.fn
	for _, h := range fn.blocks[p].heads {
		if !fn.inComponent(v, h) {
			st.z.forget(locCounter(r.depth, fn.blocks[h].start))
		}
	}
	if fn.heads[v] && !(a.opts.test != nil && a.opts.test.noTerm) {
		c := locCounter(r.depth, fn.blocks[v].start)
		if fn.inComponent(p, v) {
			st.z.assign(c, c, 1, 1)
		} else {
			st.z.setBounds(c, 0, 0)
		}
	}
}

// joinInput joins st, the state on edge i (state d) of p into v, into
// acc, the input so far (fresh says whether acc belongs to it alone).
func (a *analyzer) joinInput(r *run, v, p, i, d int, acc *state, fresh bool, st *state) (*state, bool) {
	changed := a.countersChange(r, v, p)
	if changed {
		// Copies that are only joined into acc (which copies what it
		// keeps) reuse the scratch states' memory; one that ends up as
		// the input is copied out by inputs.
		if acc == nil {
			a.scratch[0] = st.cloneInto(a.scratch[0])
			st = a.scratch[0]
		} else {
			a.scratch[1] = st.cloneInto(a.scratch[1])
			st = a.scratch[1]
		}
		a.changeCounters(r, v, p, st)
	}
	if acc == nil {
		fresh = changed
		if r.steal && !changed && v != 0 && a.sole(r, v, p, i) && len(r.out[p][i]) == 1 {
			r.out[p][i][d], fresh = nil, true
		}
		return st, fresh
	}
	if fresh && acc != a.scratch[0] && acc != a.scratch[1] {
		return joinOwned(acc, st), true
	}
	return join(acc, st, false, nil), true
}

// pass is the final pass over the fixpoint states of a WTO list: non-head
// blocks get their inputs again, heads keep theirs and must cover their
// inputs. r.check says whether to report.
func (a *analyzer) pass(r *run, ws []wto) error {
	check := r.check
	for _, w := range ws {
		if !w.comp {
			if err := a.process(r, w.v); err != nil {
				return err
			}
			continue
		}
		h := w.v
		if r.in[h] == nil {
			if err := a.pass(r, w.body); err != nil {
				return err
			}
			if in := a.input(r, h); in != nil {
				r.failed = true
			}
			continue
		}
		if err := a.processBlock(r, h, r.in[h]); err != nil {
			return err
		}
		if err := a.pass(r, w.body); err != nil {
			return err
		}
		in := a.headInput(r, h)
		if hk := a.opts.test; in != nil && hk != nil && hk.compared != nil {
			hk.compared(in, r.in[h])
		}
		if in != nil && !leq(in, r.in[h]) {
			r.failed = true
		}
		if check && !(a.opts.test != nil && a.opts.test.noTerm) {
			c := locCounter(r.depth, r.fn.blocks[h].start)
			if _, hi := r.in[h].z.bounds(c); hi == inf || hi > a.loopMax {
				ok, err := a.proveLoop(r, w)
				if err == nil && !ok {
					ok, err = a.proveCountedLoop(r, w)
				}
				if err == nil && !ok {
					ok = a.iterBounded(r, w)
				}
				if err != nil {
					return err
				}
				if !ok {
					a.report(r.fn.blocks[h].start, "loop may not terminate: its trip count cannot be bounded")
				}
			}
		}
	}
	return nil
}

// processBlock runs the transfer function through a block.
func (a *analyzer) processBlock(r *run, v int, in *state) error {
	outs, err := a.runBlock(r, v, in.clone())
	if err != nil {
		return err
	}
	return a.setOut(r, v, outs)
}

// runBlock runs a block on a state of its own, which it changes, and
// returns the states it leaves on each edge.
func (a *analyzer) runBlock(r *run, v int, s *state) ([][]*state, error) {
	b := r.fn.blocks[v]
	if err := a.charge(b.end - b.start); err != nil {
		return nil, err
	}
	a.states++
	return a.runFrom(r, v, s, b.start)
}

// runFrom runs block v from instruction pc on. Where a call returns
// several states kept apart (callexits.go), each runs the rest of the
// block on its own, and the lists of states on each edge hold them all.
func (a *analyzer) runFrom(r *run, v int, s *state, pc int) ([][]*state, error) {
	b := r.fn.blocks[v]
	e := &exec{a: a, r: r, check: r.check}
	var outs []*state
	for pc < b.end {
		ins := a.prog[pc]
		if r.verbose {
			fmt.Fprintf(a.opts.Verbose, "%d: %s\n", pc, s)
			fmt.Fprintf(a.opts.Verbose, "%d:   %s\n", pc, ins.Text())
		}
		kept := a.keep(r, pc, s)
		if h := a.opts.test; h != nil && h.sink == pc {
			s = nil
			break
		}
		size := 1
		if ins.IsLoadImm64() {
			size = 2
		}
		last := pc+size >= b.end
		if last && ins.IsConditionalJump() {
			fall, taken := e.cond(s, pc, ins)
			kept.edges(fall, taken)
			outs = []*state{fall, taken}
			break
		}
		if ins.IsJumpA() {
			outs = []*state{s}
			break
		}
		if ins.IsExit() {
			e.exit(s, pc)
			s = nil
			break
		}
		var err error
		s, err = e.step(s, pc, ins)
		if err != nil {
			return nil, err
		}
		if len(e.extra) > 0 {
			return a.runForks(r, v, append([]*state{s}, e.extra...), pc+size)
		}
		if s == nil {
			break
		}
		pc += size
	}
	if outs == nil {
		if s != nil && len(b.succs) > 0 {
			outs = []*state{s}
		} else {
			outs = make([]*state, len(b.succs))
		}
	}
	if err := a.checkKept(); err != nil {
		return nil, err
	}
	return perEdge(outs), nil
}

// frameUse records a stack access at offset off of the frame owned by the
// function starting at fn.
func (a *analyzer) frameUse(fn, off int) {
	if off < a.used[fn] {
		a.used[fn] = off
	}
}

func satU(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// proveLoop tries to bound a loop whose counter the zone could not relate
// to its variables (steps other than 1, counting down): it looks for a
// number, bounded at the head, that every trip around the loop moves by at
// least 1 in the same direction. It runs the loop body once more from the
// head's fixpoint state with a ghost copy of each candidate taken at the
// head, and reads the candidate's change from the ghost on the back edges.
func (a *analyzer) proveLoop(r *run, w wto) (bool, error) {
	h := w.v
	st := r.in[h].clone()
	var cands []loc
	for reg := 0; reg < 10; reg++ {
		if st.regs[reg].kind == kScalar && st.z.has(locReg(reg)) {
			cands = append(cands, locReg(reg))
		}
	}
	for _, sp := range st.top().spill {
		l := locSpill(r.depth, int(sp.off))
		if sp.v.kind == kScalar && st.z.has(l) {
			cands = append(cands, l)
		}
	}
	if len(cands) == 0 {
		return false, nil
	}
	for _, c := range cands {
		st.z.copyLoc(ghostLoc(c), c)
	}
	r2, err := a.rerunLoop(r, w, st)
	if r2 != nil {
		defer a.done(r2)
	}
	if err != nil {
		return false, err
	}
	inc := make([]int64, len(cands))
	dec := make([]int64, len(cands))
	for i := range cands {
		inc[i], dec[i] = inf, inf
	}
	fn := r.fn
	for _, p := range fn.blocks[h].preds {
		if !fn.inComponent(p, h) || r2.out[p] == nil {
			continue
		}
		for i, sidx := range fn.blocks[p].succs {
			if sidx != h || i >= len(r2.out[p]) {
				continue
			}
			for _, o := range r2.out[p][i] {
				for j, c := range cands {
					g := ghostLoc(c)
					inc[j] = min(inc[j], negB(o.z.ub(g, c))) // c - g >= -ub(g - c)
					dec[j] = min(dec[j], negB(o.z.ub(c, g)))
				}
			}
		}
	}
	for j, c := range cands {
		lo, hi := r.in[h].z.bounds(c)
		if lo == math.MinInt64 || hi == inf {
			continue
		}
		span := addB(hi, negB(lo))
		for _, step := range []int64{inc[j], dec[j]} {
			if step >= 1 && step != inf && span != inf && span/step < a.loopMax {
				return true, nil
			}
		}
	}
	return false, nil
}
