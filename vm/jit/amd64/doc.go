// Package amd64 is a JIT compiler from eBPF to x86-64 machine code, in pure
// Go (no cgo). It implements vm.Engine with the interpreter's semantics
// (vm/interp): the same results, errors, instruction counts and failure
// points, in both memory modes. Compile refuses with vm.ErrUnsupported on
// other architectures (the package still builds there), so callers can fall
// back to the interpreter.
//
// # Flow
//
// Compile validates the program (isa.Validate), translates every slot into
// machine code in one pass (compile.go, alu.go, control.go, memory.go) with
// the small assembler in asm.go, copies the code into fresh pages mapped
// read-write and then flips them to read-execute, never both at once
// (codemem_*.go: mmap/mprotect on Unix, VirtualAlloc/VirtualProtect on
// Windows). Close unmaps them; executables dropped without Close are
// unmapped when collected.
//
// # Entering and leaving (DESIGN.md #5)
//
// Run calls enter (enter_amd64.s, an ABI0 assembly function) with the
// address of a context (context.go) that lives on Run's stack. The code
// loads the BPF registers from the context and jumps to the resume address.
// It never calls Go. When it needs Go — a helper call, callx, a legacy
// LD_ABS/LD_IND load, a checked-mode access outside the live stack frames,
// the end of a budget chunk, or the final exit — it stores the index of an
// exit descriptor and all registers in the context and returns to enter.
// Run does the work and re-enters at the descriptor's resume address.
//
// BPF-to-BPF calls do not use the x86 call stack: the return address and
// the caller's r6-r9 go into frames in the context, and r10 moves down one
// 512-byte frame of the vm.Stack. So an exit can happen at any depth, the
// goroutine stack may move (grow, shrink) while Go runs between exits, and
// the code uses no goroutine stack beyond the return address of enter's
// CALL. It keeps no pointer to the context across exits: enter passes it
// afresh each time.
//
// # Registers
//
//	BPF  r0  r1  r2  r3  r4  r5  r6  r7  r8  r9  r10
//	x86  rax rdi rsi rdx rcx r8  rbx r13 r14 r15 rbp
//
// r9 holds the context, r12 the instructions left in the budget chunk,
// r10 and r11 are scratch. This is the Linux kernel's mapping: r0 in rax
// and r3 in rdx suit division (saved around it), r4 in rcx suits shifts
// (cl). Go's ABI0 lets an assembly function clobber every register but SP
// and BP; enter's frame saves BP (which holds r10 while code runs) and
// restores it before returning, and it saves R14 (the goroutine) and R15
// too, although the ABI wrapper restores R14 anyway. The code never touches
// vector registers, so X15 stays zero.
//
// # Budget
//
// JIT code cannot be preempted, so every run is bounded by its instruction
// budget, charged exactly as the interpreter charges it
// (docs/decisions/0002-interpreter-dispatch.md): the program is split into
// blocks at jump and call targets and after jumps, calls and exits; a block
// is charged with one sub when control leaves it, and the budget is tested
// only at taken jumps, local calls and returns. rc.Executed is exact and
// runs fail at the same instruction as in the interpreter. The register
// holds only a chunk of the budget (at most 1<<20 instructions); when a
// chunk runs out the code exits, Run refills it or fails the run. Those
// exits are where a long run gives the scheduler and the garbage collector
// a chance to stop the goroutine (enter's stack check is a preemption
// point).
//
// # Memory modes
//
// Trusted code accesses memory directly (the verifier proved it safe).
// Checked code tests each access inline against the live stack frames
// [r10-512, top), as the interpreter's hot loop does, and exits to Run for
// anything else; Run validates it against the run's regions (and alignment,
// for atomics) and either resumes at the access or stops the run with the
// interpreter's error. Accesses through r10 at constant offsets inside the
// frame need no test. Checked runs clear frame 0 when they start and a
// callee's frame when a call enters it (docs/decisions/0003-memory.md);
// trusted runs do the same for programs that read stack they have not
// written (vm.Program.ZeroEntryFrame, ZeroCallFrames; decision 0018).
//
// # Map lookups
//
// An engine made with NewWithOptions and Options.Maps compiles
// bpf_map_lookup_elem calls whose map is known without the helper. The
// engine derives nothing: the program's facts (vm.Program.MapArgs, from the
// verifier, decision 0016) give the map address r1 holds at a call, and
// Options.Maps, the runtime's registry, says which map that address names. Arrays and per-CPU arrays are looked up inline: the code
// reads the u32 index, bounds-checks it (and the run's slot, kept in the
// context) and computes the value's address, or NULL, exactly as the map
// does. Hash maps (plain, per-CPU, LRU) with keys of up to 64 bytes are
// looked up inline too (hashlookup.go): the code hashes the key as the map
// does, walks the bucket's chain without a lock as a seqlock reader
// (maps.HashInline) and leaves for Go only when a writer got in the way.
// Other element maps (LPM tries, longer keys) leave through a lookup exit
// that calls the map's LookupPtr directly, without the helper's resolution
// of the map pointer. Checked code takes these paths only for keys inside the live
// stack frames and calls the helper for any other key, so that errors are
// the helper's.
//
// Checked code also tests accesses outside the stack against a table of
// the run's first regions (regions.go) before it leaves for Go, so that
// map values, the context and the packet are reached without an exit. The
// table is kept in the RunContext, so the next run with the same regions
// starts with it. Checked mode is what runs verified programs from
// untrusted sources and unverified ones at JIT speed
// (docs/decisions/0010-checked-jit.md).
//
// # Listing
//
// Compile records where each slot's code starts and which slot every piece
// of out-of-line code belongs to; Listing returns the code by slot with a
// disassembly by golang.org/x/arch's x86asm (decode.go), for bpfhost
// disasm --jited; tests compare it with objdump's.
//
// # Instructions
//
// Every instruction the interpreter runs is compiled: all ALU and ALU64
// operations including ISA v4 sdiv, smod, movsx and bswap; all jumps
// including JMP32 and gotol; lddw of 64-bit immediates; all loads and
// stores including sign-extending loads; all atomics (locked add/or/and/xor,
// xadd, xchg, cmpxchg against r0; fetch-or/and/xor as cmpxchg loops; 32-bit
// forms zero-extend); helper calls, callx (docs/decisions/0004-callx.md),
// BPF-to-BPF calls up to vm.MaxCallDepth, exit; legacy packet loads through
// Run; lddw of function addresses (isa.PseudoFunc: the slot index, as in the
// interpreter), whose functions helpers run through rc.CallFunc as nested
// runs one frame deeper on the same budget. A helper that sets rc.TailCall
// ends the program for vm.Run to continue the chain, or, called in a
// subprogram, has Run run the target in the subprogram's place
// (vm.RunContext.TailCallInPlace) and return from it with the target's r0. Division never reaches DIV/IDIV with a zero divisor or a signed -1
// divisor (which would fault on INT_MIN): those cases get the RFC 9669
// results inline.
package amd64
