package verifier

import (
	"errors"
	"fmt"
	"math"
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
}

type analyzer struct {
	prog  []isa.Instruction
	opts  *Options
	maps  []*MapInfo
	funcs map[int]*function
	ends  map[int]int // function start -> end

	errs    []Error
	seen    map[string]bool
	ctxUse  []uint8 // by pc: 1 context, 2 other memory
	calls   map[int]map[int]bool
	used    map[int]int // function start -> lowest stack offset used
	active  []int       // functions being analysed (recursion)
	iters   int
	states  int
	start   time.Time
	limit   error
	loopMax int64
	merged  map[string]int32 // synthetic maps standing for several
	parts   map[int32][]int32
	scratch [2]*state // reused for short-lived copies (input)
}

// mergeMaps returns the id of a map standing for the values of either x or
// y: the smallest value size, read-only if either is.
func (a *analyzer) mergeMaps(x, y int32) int32 {
	if x == y {
		return x
	}
	set := map[int32]bool{}
	for _, id := range []int32{x, y} {
		if p, ok := a.parts[id]; ok {
			for _, q := range p {
				set[q] = true
			}
		} else {
			set[id] = true
		}
	}
	ids := make([]int32, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	key := fmt.Sprint(ids)
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
	}
	a.maps = append(a.maps, m)
	id := int32(len(a.maps) - 1)
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
		seen: map[string]bool{}, ctxUse: make([]uint8, len(prog)), calls: map[int]map[int]bool{}, used: map[int]int{},
		loopMax: opts.MaxLoopIterations,
	}
	if a.loopMax <= 0 {
		a.loopMax = DefaultMaxLoopIterations
	}
	for i := range opts.Maps {
		a.maps = append(a.maps, &opts.Maps[i])
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

// mapID returns the id of a map descriptor, registering inner maps.
func (a *analyzer) mapID(m *MapInfo) int32 {
	for i, x := range a.maps {
		if x == m {
			return int32(i)
		}
	}
	a.maps = append(a.maps, m)
	return int32(len(a.maps) - 1)
}

func (a *analyzer) function(start int) *function {
	if fn, ok := a.funcs[start]; ok {
		return fn
	}
	fn := buildFunction(a.prog, start, a.ends[start])
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

var errStop = errors.New("stop")

// tick charges one block to the limits.
func (a *analyzer) tick() error {
	a.iters++
	max := a.opts.MaxIterations
	if max <= 0 {
		max = DefaultMaxIterations
	}
	if a.iters > max {
		a.limit = fmt.Errorf("%w: more than %d block iterations", ErrLimit, max)
		return errStop
	}
	if a.opts.Timeout > 0 && a.iters%256 == 0 && time.Since(a.start) > a.opts.Timeout {
		a.limit = fmt.Errorf("%w: more than %v", ErrLimit, a.opts.Timeout)
		return errStop
	}
	return nil
}

func (a *analyzer) verify() (*Result, error) {
	a.start = time.Now()
	entry := a.entryState()
	exit, err := a.analyze(0, entry, true, callNone, nil)
	if h := a.opts.test; err == nil && h != nil && h.exit != nil {
		h.exit(exit)
	}
	res := &Result{Instructions: len(a.prog), Iterations: a.iters, States: a.states, Duration: time.Since(a.start)}
	if err != nil {
		ve := &VerifierError{Program: a.opts.Name, limit: true}
		ve.Errors = append(ve.Errors, Error{PC: -1, Message: a.limit.Error()})
		return nil, ve
	}
	a.checkStack(res)
	for pc, u := range a.ctxUse {
		if u == 3 {
			a.report(pc, "instruction accesses the context on some paths and other memory on others")
		}
	}
	if len(a.errs) > 0 {
		sort.SliceStable(a.errs, func(i, j int) bool { return a.errs[i].PC < a.errs[j].PC })
		return nil, &VerifierError{Program: a.opts.Name, Errors: a.errs}
	}
	for pc, u := range a.ctxUse {
		if u == 1 {
			res.ContextAccesses = append(res.ContextAccesses, pc)
		}
	}
	sort.Ints(res.ContextAccesses)
	return res, nil
}

// checkStack applies Linux's limit on the combined stack of a call chain,
// each frame rounded up to 32 bytes.
func (a *analyzer) checkStack(res *Result) {
	size := func(fn int) int { return (-a.used[fn] + 31) &^ 31 }
	var worst int
	var walk func(fn int, total int, seen map[int]bool)
	walk = func(fn int, total int, seen map[int]bool) {
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
	res.MaxStack = worst
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
	// Packet bounds: Linux's MAX_PACKET_OFF; data_meta lies up to 255
	// bytes before data.
	s.z.setBounds(locPkt, 0, 0xffff)
	s.z.setBounds(locMeta, -255, 0)
	t := a.opts.Type
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
			s.regs[r] = value{kind: kScalar, umin: 0, umax: 0xffff}
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
	fn      *function
	depth   int
	kind    callKind
	cb      *callbackInfo
	entry   *state
	in      []*state
	out     [][]*state // per block, per successor index
	exit    *state
	check   bool
	narrow  bool
	verbose bool
	failed  bool // the check pass found a head not covering its inputs
}

// analyze runs the fixpoint for the function starting at start from entry
// and returns the join of its states at exit (nil if it never returns).
// With check set it also reports every problem.
func (a *analyzer) analyze(start int, entry *state, check bool, kind callKind, cb *callbackInfo) (*state, error) {
	fn := a.function(start)
	a.active = append(a.active, start)
	defer func() { a.active = a.active[:len(a.active)-1] }()
	r := &run{fn: fn, depth: entry.depth(), kind: kind, cb: cb, narrow: true}
	for attempt := 0; ; attempt++ {
		r.in = make([]*state, len(fn.blocks))
		r.out = make([][]*state, len(fn.blocks))
		r.exit = nil
		r.entry = entry
		r.failed = false
		// Callers pass check=false during their own iterations: the
		// fixpoint states suffice, but they must be a post-fixpoint, which
		// the final pass confirms; it then runs quietly.
		if err := a.solve(r, check); err != nil {
			return nil, err
		}
		if !r.failed || attempt > 0 {
			break
		}
		// Narrowing lost the post-fixpoint property: redo without it.
		r.narrow = false
	}
	return r.exit, nil
}

// solve finds the fixpoint of a function and makes the final pass over
// it. Each top-level element of the weak topological order is final once
// processed, so the two are interleaved: a block outside every loop is
// processed once, by the final pass, and a loop is iterated to its
// fixpoint and then passed over before the next element. The result is
// that of a full fixpoint followed by a full final pass.
func (a *analyzer) solve(r *run, check bool) error {
	for _, w := range r.fn.wto {
		if !w.comp {
			if err := a.final(r, check, func() error { return a.process(r, w.v) }); err != nil {
				return err
			}
			continue
		}
		// Exits reached while iterating are not final: keep those of the
		// final pass only.
		exit := r.exit
		r.check, r.verbose = false, false
		if err := a.component(r, w); err != nil {
			return err
		}
		r.exit = exit
		if err := a.final(r, check, func() error { return a.pass(r, []wto{w}) }); err != nil {
			return err
		}
	}
	return nil
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
	bodyOnly := false
	for k := 0; ; k++ {
		in := a.input(r, h)
		if in == nil {
			// The head is not reached (yet), but the body may be, through a
			// jump into the middle of the loop (irreducible flow).
			r.in[h] = nil
			r.out[h] = nil
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
		r.in[h] = in
		if err := a.processBlock(r, h, in); err != nil {
			return err
		}
		if err := a.iterate(r, w.body); err != nil {
			return err
		}
	}
	if !r.narrow {
		return nil
	}
	for k := 0; k < narrowPasses; k++ {
		in := a.input(r, h)
		if in == nil {
			break
		}
		n := narrowState(r.in[h], in)
		if n.equal(r.in[h]) {
			break
		}
		r.in[h] = n
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
	in, fresh := a.inputFresh(r, v)
	r.in[v] = in
	if in == nil {
		r.out[v] = nil
		return nil
	}
	if fresh {
		// Nothing else holds the state (only heads' inputs are read
		// again), so the block can run on it without a copy.
		return a.runBlock(r, v, in)
	}
	return a.processBlock(r, v, in)
}

// input joins the states on the edges into block v (and the entry state
// into the first block). Entering a loop sets its counter to 0, a back
// edge adds 1, and leaving a loop forgets it.
func (a *analyzer) input(r *run, v int) *state {
	s, _ := a.inputFresh(r, v)
	return s
}

// inputFresh is input that also reports whether the state is a new one
// that nothing else refers to.
func (a *analyzer) inputFresh(r *run, v int) (*state, bool) {
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
		}
	}
	for _, p := range b.preds {
		outs := r.out[p]
		if outs == nil {
			continue
		}
		pb := fn.blocks[p]
		for i, s := range pb.succs {
			if s != v || i >= len(outs) || outs[i] == nil {
				continue
			}
			st := outs[i]
			var forget []loc
			for _, h := range pb.heads {
				if !fn.inComponent(v, h) {
					forget = append(forget, locCounter(r.depth, fn.blocks[h].start))
				}
			}
			changed := (fn.heads[v] && term) || len(forget) > 0
			if changed {
				// Copies that are only joined into acc (which copies what
				// it keeps) reuse the scratch states' memory; one that
				// ends up as the input is copied out below.
				if acc == nil {
					a.scratch[0] = st.cloneInto(a.scratch[0])
					st = a.scratch[0]
				} else {
					a.scratch[1] = st.cloneInto(a.scratch[1])
					st = a.scratch[1]
				}
				for _, l := range forget {
					st.z.forget(l)
				}
				if fn.heads[v] && term {
					c := locCounter(r.depth, b.start)
					if fn.inComponent(p, v) {
						st.z.assign(c, c, 1, 1)
					} else {
						st.z.setBounds(c, 0, 0)
					}
				}
			}
			if acc == nil {
				acc, fresh = st, changed
			} else {
				acc, fresh = join(acc, st, false, nil), true
			}
		}
	}
	if acc != nil && acc == a.scratch[0] {
		acc = acc.clone()
	}
	return acc, fresh
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
		if in := a.input(r, h); in != nil && !leq(in, r.in[h]) {
			r.failed = true
		}
		if check && !(a.opts.test != nil && a.opts.test.noTerm) {
			c := locCounter(r.depth, r.fn.blocks[h].start)
			if _, hi := r.in[h].z.bounds(c); hi == inf || hi > a.loopMax {
				ok, err := a.proveLoop(r, w)
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
	return a.runBlock(r, v, in.clone())
}

// runBlock is processBlock on a state of its own, which it changes.
func (a *analyzer) runBlock(r *run, v int, s *state) error {
	if err := a.tick(); err != nil {
		return err
	}
	b := r.fn.blocks[v]
	a.states++
	e := &exec{a: a, r: r, check: r.check}
	var outs []*state
	pc := b.start
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
			return err
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
	r.out[v] = outs
	return nil
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
	r2 := &run{fn: r.fn, depth: r.depth, kind: r.kind, cb: r.cb, entry: r.entry, narrow: r.narrow,
		in: append([]*state(nil), r.in...), out: append([][]*state(nil), r.out...)}
	r2.in[h] = st
	// The body's states from the fixpoint lack the ghosts: drop them, or
	// an inner loop's head would join them in before its first trip and
	// lose every ghost.
	var drop func(ws []wto)
	drop = func(ws []wto) {
		for _, x := range ws {
			r2.out[x.v] = nil
			drop(x.body)
		}
	}
	drop(w.body)
	if err := a.processBlock(r2, h, st); err != nil {
		return false, err
	}
	if err := a.iterate(r2, w.body); err != nil {
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
			if sidx != h || i >= len(r2.out[p]) || r2.out[p][i] == nil {
				continue
			}
			o := r2.out[p][i]
			for j, c := range cands {
				g := ghostLoc(c)
				inc[j] = min(inc[j], negB(o.z.ub(g, c))) // c - g >= -ub(g - c)
				dec[j] = min(dec[j], negB(o.z.ub(c, g)))
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
