// Package progen generates random eBPF programs that are valid, terminate and
// have one defined result, for differential testing: the same program run by
// the interpreter, the JIT and the Linux kernel must return the same r0, and
// a program the verifier accepts must never fault in the checked interpreter.
//
//	g := progen.New(rng, progen.Options{Jumps: true, Loops: true, V4: true})
//	prog := g.Program() // []isa.Instruction, ends in exit
//
// A program has three parts. The prologue sets r0 to r9 to random 64-bit
// constants (lddw), so that nothing depends on the entry arguments or on the
// context pointer in r1. The body is random and is what the options shape.
// The epilogue folds r1..r9 and up to 16 fully written 8-byte stack slots into r0
// with an invertible mixing step (xor, multiply by an odd constant, xor with
// the high half) and exits, so that a wrong value in any register or slot
// changes r0.
//
// # What the body contains
//
//   - ALU and ALU64, every operation, K and X forms: add, sub, mul, div, or,
//     and, lsh, rsh, neg, mod, xor, mov, arsh, le and be; with V4 also sdiv,
//     smod, movsx and bswap. Divisions and modulos by registers sometimes get
//     operands set up to divide by zero (0, 1<<32 for the 32-bit forms) or to
//     overflow (INT_MIN / -1).
//   - lddw of random and edge-case 64-bit constants.
//   - Stack stores (st, stx) and loads (ldx; with V4 the sign-extending ldxs)
//     of 1, 2, 4 and 8 bytes.
//   - With Atomics: add, or, and, xor with and without fetch, xchg and
//     cmpxchg, 32- and 64-bit, on stack slots.
//   - With Jumps: forward conditional jumps (JMP and JMP32, every condition,
//     K and X) over a nested block, sometimes with an else block joined by ja
//     (or, with V4, gotol).
//   - With Loops: bounded loops whose counter counts down to zero or up to a
//     bound, closed by a backward conditional jump; loops nest.
//
// # Constraints, and why
//
// Programs keep to a contract that Check tests independently of the
// generator:
//
//   - r10 is never written and only ever used as the base of a stack access:
//     reading it as a value would make a register a pointer, which the Linux
//     verifier tracks differently (and rejects in comparisons and most
//     arithmetic), and whose value differs between engines.
//   - Every memory access is r10-relative, inside the 512-byte frame and
//     aligned to its size: Linux requires aligned stack accesses, and
//     unaligned atomics fault on some hosts.
//   - A load or an atomic only touches stack bytes that every path to it has
//     written. Stacks are not cleared between runs in the kernel (the checked
//     interpreter clears them), so an uninitialised read would make results
//     differ for no fault of either engine, and unprivileged verification
//     rejects it.
//   - Shifts by an immediate use 0..31 (32-bit) or 0..63 (64-bit), and
//     divisions and modulos by an immediate never divide by zero: the Linux
//     verifier rejects both (the register forms are defined for any value and
//     are generated freely).
//   - No calls, no legacy packet loads, no lddw pseudo forms: a program needs
//     no helpers, maps or context.
//   - Every instruction is reachable along some path of the control-flow
//     graph (Linux rejects unreachable instructions), and all jumps but the
//     loops' back edges go forward.
//   - Loops are do-while loops with a constant trip count between 1 and
//     Options.MaxIterations; the body never writes the counter, nested trip
//     counts multiply to at most MaxIterations, and the counter is never r0
//     (cmpxchg writes r0). Options.StepLimit bounds the instructions any run
//     executes.
//   - The Linux verifier walks a loop once per iteration, and a conditional
//     jump it cannot decide inside a loop doubles the paths it walks on each
//     iteration (precise register values keep it from pruning them). So an
//     outermost loop either contains no conditional jump, or contains one
//     and runs at most 8 iterations in all, nested loops included. Measured
//     on Linux 6.18 with bodies of up to 96 slots: without this rule several
//     programs in 100,000 hit the verifier's limit of a million processed
//     instructions; with it no program of 80,000 needed more than 12,000.
//     Much longer bodies (many hundreds of slots, many jumps) may still
//     exceed the limit.
package progen
