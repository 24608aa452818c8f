// Package verifier proves eBPF programs safe before they run: every memory
// access stays inside a region the program may touch and is allowed there,
// no uninitialised register is read, unwritten stack is read only where
// the run time zeroes it, pointers do not leak into
// numbers, maps or return values, helpers get the arguments their
// prototypes ask for, acquired ring buffer records are released, and every
// loop terminates. It is the safety boundary of bpfhost (DESIGN.md #4): the
// engines trust what it accepts.
//
// # Use
//
//	res, err := verifier.Verify(prog, verifier.Options{
//		Name:  "xdp_firewall",
//		Type:  info,          // *platform.ProgramTypeInfo, e.g. linux.Lookup("xdp")
//		ABI:   linux.ABI(),   // helper prototypes, map types
//		Maps:  maps,          // []verifier.MapInfo, by the lddw map index
//		Lines: func(pc int) string { return spec.Line(pc).String() },
//	})
//	// err is a *verifier.VerifierError (errors.Is(err, verifier.ErrRejected))
//	// listing every finding as "insn N (fw.c:41): message".
//	rewritten, err := platform.Rewrite(prog, info.Context, res.ContextAccesses)
//
// # How it works
//
// The analysis is abstract interpretation over each function's
// control-flow graph, in weak topological order, with widening at loop
// heads (thresholds are the program's constants for a few rounds, then
// none) and a narrowing pass. Where paths meet outside a loop head, up to
// 8 states are kept apart when joining them would lose a live pointer's
// type or non-NULL-ness, a ring buffer record's identity or a packet range
// (paths.go, decision 0020): a later test that repeats an earlier one sees
// each path alone, as in Linux. A loop of a function's top level is
// analysed once per group of the states entering it, so that they stay
// apart through it. Verify first analyses with every path joined, which
// is cheaper, and keeps paths apart only for a program that this rejects.
// A final pass re-runs every block on the
// fixpoint states, checks that loop heads cover their inputs, and reports;
// it is interleaved with the fixpoint, so that code outside loops is
// processed once. BPF-to-BPF calls are analysed from each call site's
// state (callers' stack frames stay visible, recursion is rejected, at
// most 8 frames, 512 bytes of stack across a call chain); where paths are
// kept apart, so are the callee's returns, and the caller goes on from
// each (callexits.go). Callbacks
// of bpf_loop and bpf_for_each_map_elem are iterated (with widening) until
// the caller's state is stable. Every analysis limit that is reached —
// block iterations, time, callback rounds, a loop that does not settle —
// rejects the program with ErrLimit; nothing is accepted on a partial
// analysis.
//
// Comparing two pointers relates their offsets only when they point into
// the same object: the same frame or context, the packet, one map element
// or ring buffer record (one lookup or reservation: the value's id), or
// the value of a single-element array; 32-bit copies of packet pointers
// are equal when their offsets are, and say nothing more. A struct
// bpf_spin_lock in a map value (placed by BTF, MapInfo.HasSpinLock) is
// reachable only through bpf_spin_lock and bpf_spin_unlock, and the unlock
// must name the element whose lock is held. Whatever may
// end the program on the spot (a taken tail call, an out-of-bounds
// LD_ABS/LD_IND) is refused while a ring buffer record or a lock is held,
// and inside callbacks, which cannot end their caller. A tail call taken in
// a subprogram ends only the subprogram, as in Linux: the caller receives
// any number in r0 and no valid packet pointer, and the callers' frames
// must take less than 256 bytes (tailsub.go).
//
// The abstract state has three domains, each in its own file:
//
//   - types (types.go): uninitialised, scalar, context, stack frame,
//     packet, packet end, map, map value (maybe NULL, with an id so that a
//     NULL check on one copy decides all; not NULL for an array lookup of
//     key 0, constkey.go), ring buffer record (a reference
//     to release), function, opaque kernel pointers, invalidated pointers.
//   - numbers (interval.go, zone.go): signed and unsigned 64-bit intervals
//     kept consistent (32-bit operations work on the low halves), and a
//     zone (difference-bound matrix, kept closed and changed in place) over
//     registers, stack spills, the packet size and loop counters. The zone relates a packet pointer's
//     offset to the packet size after data + off <= data_end, which proves
//     variable-offset accesses (IPv4 header lengths, TCP option walks), and
//     a loop's implicit iteration counter to its variables, which bounds
//     the loop.
//   - stack (stack.go): per frame, which bytes are initialised and which
//     hold parts of pointers; register stores keep the whole abstract value
//     (type, numbers, relations) at their offset and width.
//
// Transfer functions are in alu.go, branch.go, memory.go, helpers.go and
// calls.go; the fixpoint engine is analyzer.go and the CFG and its weak
// topological order cfg.go.
//
// # Cost
//
// Like Linux's complexity limit, Options.Limits bound the work of one
// verification (limits.go): instructions processed, 1,000,000 by default
// (loop bodies and callees count every time they are processed, and copies
// and joins of states that track many numbers count as the instructions
// they cost); the memory of the states kept, 256 MiB; and the time, 10 s.
// A limit reached rejects the program with a *LimitError that names it and
// the option that raises it; nothing is accepted on a partial analysis.
// States are kept only while something reads them (a block's output until
// its successors have their inputs, a loop head's input until the loop's
// final pass), and a function called again from an entry state equal to
// an earlier one reuses that analysis's exit.
//
// # What is approximate
//
// Loops are bounded by counting: every loop head has an implicit counter
// (0 on entry, +1 per back edge) that must be proven below
// Options.MaxLoopIterations. Where the zone cannot relate it to the loop's
// variables, proveLoop looks for a bounded number that every trip moves,
// and proveCountedLoop (looptrip.go) checks an inductive hypothesis for a
// counter with a constant start and stride that ends on equality (clang's
// `r += 7; if r == 448`); the same proof bounds such a counter at the
// loop head when widening left it unbounded, so that it may index memory
// (stride.go). The zero extension clang emits without ALU32 (`r <<= 32;
// r >>= 32`) keeps r's relations when r fits in 32 bits, so a counter
// tested through such a copy is bounded too (zextPair in transfer.go).
// bpf_probe_read_*'s source may be a pointer as in Linux, checked as a read
// of its bytes, or the context where it holds no host pointers
// (addressArg); BPF_ST into the context is rewritten like a register
// store. bpf_loop's callback runs at most 1 << 23 times
// whatever the count (a larger count is -E2BIG at run time). A map pointer
// that differs by path stands for the set of maps (mapjoin.go); helpers
// must suit each. Loads and helpers may read stack the program has not
// written (never where a pointer may be), and the frames read so start
// zeroed at each run or call (uninit.go). Map contents are unknown numbers; sockets and
// other kernel objects can be passed around but not dereferenced; dynptrs
// and kptrs are rejected. Kfuncs are checked against the ABI's kfunc table
// by name (kfunc.go); the open-coded number iterator's follow Linux's rules,
// and a loop whose every trip steps one iterator ends (iter.go).
package verifier
