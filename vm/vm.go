// Package vm defines what an execution engine is and the run-time model every
// engine shares: how programs reach helpers, the memory a program may touch,
// call frames, instruction budgets and the errors a run can end with.
//
// A caller builds a Program (validated instructions plus a helper table),
// compiles it with an Engine (vm/interp, later vm/jit/amd64) into an
// Executable, and runs it with a RunContext that carries the entry arguments
// and the memory the run may use. Registers that hold pointers hold real host
// addresses (DESIGN.md #2): everything a program can reach must stay at a
// fixed address for the length of the run.
//
// Two memory modes exist. Trusted runs (verified programs) access memory
// directly. Checked runs validate every load and store against the regions
// registered for the run and stop with an *AccessError instead of touching
// anything else; they are for unverified programs, the conformance suite and
// as the oracle in fuzzing.
package vm

import (
	"errors"
	"fmt"

	"github.com/bpfhost/bpfhost/isa"
)

// Stack layout. Each BPF-to-BPF call gets a fresh frame below its caller's.
const (
	// StackSize is the size of one call frame in bytes.
	StackSize = 512
	// MaxCallDepth is how many nested BPF-to-BPF calls a run may make below
	// the entry function. Linux allows 7 (8 frames in all); engines allow
	// this many so that the verifier, not the engine, sets the limit.
	MaxCallDepth = 8
	// StackFrames is the number of frames a run's stack holds.
	StackFrames = MaxCallDepth + 1
)

// MaxTailCalls is how many tail calls one run may take, as in Linux.
const MaxTailCalls = 33

// DefaultBudget is the instruction budget of a run whose RunContext sets none.
const DefaultBudget = 1 << 32

// Helper is a host function that programs call by ID with up to five
// arguments. A non-nil error stops the run and is returned from Run; helpers
// report ordinary failures to the program as negative return values, the way
// Linux helpers do, and keep errors for faults (a bad pointer in checked mode).
type Helper func(rc *RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error)

// Helpers maps helper IDs to implementations.
type Helpers map[int32]Helper

// Program is what an engine compiles: a validated program and the helpers its
// calls resolve to. lddw forms other than plain 64-bit immediates (maps,
// global data, functions) must already be resolved to immediates by the
// loader; an engine rejects the ones that remain.
type Program struct {
	Instructions []isa.Instruction
	Helpers      Helpers
	// Kfuncs maps kfunc numbers (the immediates of calls with src
	// isa.CallKfunc, which the loader binds by name: platform.KfuncID) to
	// their implementations. Engines call them as they call helpers.
	Kfuncs Helpers
	// MapArgs, if not nil, holds for each instruction slot the address of
	// the map that the helper call there takes as its map argument (the
	// value its lddw loads), 0 where no single map is known: the
	// verifier's facts (verifier.Result.MapArgs, decision 0016). Engines
	// may specialise those calls (the JIT looks maps up inline); nothing
	// is derived from the instructions instead.
	MapArgs []uint64
	// ZeroEntryFrame says each run must start with the entry function's
	// frame all zeroes (RunContext.Begin): the program's helpers may read
	// bytes of it that the program has not written, which must then hold
	// 0 or this run's data, never an earlier run's (verifier.Result's fact
	// of the same name; unverified programs always have it).
	ZeroEntryFrame bool
	// ZeroCallFrames says each BPF-to-BPF call and each callback must
	// start with the frame it enters all zeroes (CallFramesZeroed): the
	// program may read bytes of such a frame that the call has not
	// written (verifier.Result's fact of the same name). Without it calls
	// skip the clear.
	ZeroCallFrames bool
	// ProbeLoads are the slot indices of loads (LDX) that read through
	// BTF-typed kernel pointers, sorted: the verifier's fact
	// (verifier.Result.ProbeLoads). Each reads its value when the address
	// lies in memory the run may read (RunContext.Probe) and 0 otherwise,
	// in trusted and checked runs alike, as Linux's PROBE_MEM loads do.
	ProbeLoads []int
}

// Mode selects how memory accesses are treated.
type Mode int

// Memory modes.
const (
	// Trusted accesses memory directly: for programs the verifier accepted.
	Trusted Mode = iota
	// Checked validates every access against the run's regions.
	Checked
)

func (m Mode) String() string {
	if m == Checked {
		return "checked"
	}
	return "trusted"
}

// CompileOptions configure Engine.Compile.
type CompileOptions struct {
	Mode Mode
}

// Engine compiles programs into executables.
type Engine interface {
	// Name is the engine's name as the CLI spells it: "interp" or "jit".
	Name() string
	// Compile prepares a program for running. It fails if the program is
	// malformed (isa.Validate), calls a helper the table lacks, or uses a
	// feature the engine does not support, and names the instruction.
	Compile(p *Program, opts CompileOptions) (Executable, error)
}

// Executable is a compiled program. Run may be called from many goroutines
// at once, each with its own RunContext.
type Executable interface {
	// Run executes the program from its first instruction with r1..r5 from
	// rc.Args and r10 at the top of rc's stack, and returns r0 at exit.
	Run(rc *RunContext) (uint64, error)
	// Close releases what the executable holds; it must not be running.
	Close() error
}

// Errors a run can end with. Runs return them wrapped in an *ExecError that
// says where; test them with errors.Is.
var (
	ErrBudgetExceeded = errors.New("instruction budget exceeded")
	ErrCallDepth      = errors.New("call depth exceeded")
	ErrUnknownHelper  = errors.New("unknown helper")
	ErrUnknownKfunc   = errors.New("unknown kernel function (kfunc)")
	ErrUnsupported    = errors.New("unsupported instruction")
)

// ExecError is a run that stopped with an error at an instruction.
type ExecError struct {
	PC  int // slot index of the instruction
	Err error
}

func (e *ExecError) Error() string { return fmt.Sprintf("instruction %d: %v", e.PC, e.Err) }

// Unwrap returns the cause.
func (e *ExecError) Unwrap() error { return e.Err }

// CompileError is a program an engine refused, with the instruction it
// refused.
type CompileError struct {
	PC  int
	Err error
}

func (e *CompileError) Error() string { return fmt.Sprintf("instruction %d: %v", e.PC, e.Err) }

// Unwrap returns the cause.
func (e *CompileError) Unwrap() error { return e.Err }

// Run executes exe and then every program it tail-calls, and returns the last
// one's r0. The budget and the stack are shared by the whole chain; each
// program starts with r1 = rc.Args[0] (the tail-call helper sets it to the
// context it was given) and r2..r5 = 0, as in Linux. A tail call made in a
// subprogram does not end the program: the engine runs the target in place
// of the subprogram (RunContext.TailCallInPlace, tailcall.go).
func Run(exe Executable, rc *RunContext) (uint64, error) {
	rc.TailCall, rc.TailCalls = nil, 0
	return rc.chain(exe)
}
