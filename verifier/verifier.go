package verifier

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
)

// Options configure one verification.
type Options struct {
	// Name names the program in errors ("xdp_firewall"); may be empty.
	Name string
	// Type is the program type: its context descriptor, entry registers,
	// return range, allowed helpers and packet access. Required.
	Type *platform.ProgramTypeInfo
	// ABI supplies helper prototypes and map type descriptions. Required.
	ABI *platform.ABI
	// Maps are the maps the program's lddw instructions name by index
	// (isa.PseudoMapIdx and isa.PseudoMapIdxValue, the object package's
	// convention; isa.PseudoMapFD and isa.PseudoMapValue are read the same
	// way).
	Maps []MapInfo
	// Lines returns the source position of an instruction ("fw.c:41") for
	// messages; nil, or an empty result, means none is known.
	Lines func(pc int) string
	// Kfuncs returns the name of the kernel function a kfunc call at pc
	// calls, for messages; nil, or an empty result, means none is known.
	Kfuncs func(pc int) string
	// WeakKfunc reports whether the kfunc a call at pc names is declared
	// __weak: a runtime that lacks it leaves the call unbound, and only a
	// reachable call of it is refused. Nil means none is weak.
	WeakKfunc func(pc int) bool
	// Verbose, if set, receives the abstract state before each instruction
	// of the final pass.
	Verbose io.Writer
	// Containment, if set, receives the abstract states of the final pass,
	// for checking runs against them (see Containment). Verification keeps
	// no states otherwise.
	Containment *Containment
	// MaxIterations bounds how many times the analysis may process a basic
	// block in all (calls and loops count every time). 0 means
	// DefaultMaxIterations.
	MaxIterations int
	// Limits bound the instructions processed, the memory of the states
	// kept and the time (see Limits; the zero value means the defaults).
	Limits
	// KernelTypes, if set, are the kernel types that the context's BTF
	// pointer fields (platform.FieldBTFPointer with a type) and helpers
	// returning kernel objects point to: loads through such pointers are
	// checked against them (btfptr.go). Without it such pointers cannot be
	// dereferenced.
	KernelTypes platform.KernelTypes
	// NotGPL says the program's license is not GPL-compatible
	// (linux.GPLCompatible): its calls of GPL-only helpers and its reads
	// of kernel objects through BTF pointers are refused, as Linux refuses
	// them (license.go). The zero value allows them.
	NotGPL bool
	// Sleepable says the program is loaded sleepable (BPF_F_SLEEPABLE,
	// which libbpf sets for sections such as "fentry.s"): only such
	// programs may call helpers that may sleep (HelperProto.MightSleep).
	Sleepable bool
	// MaxLoopIterations is the bound a loop's trip count must be proven
	// below (per entry into the loop). 0 means DefaultMaxLoopIterations.
	MaxLoopIterations int64

	test *testHooks // set only by this package's tests
}

// Limits.
const (
	// DefaultMaxIterations is Options.MaxIterations's default.
	DefaultMaxIterations = 1 << 21
	// DefaultMaxLoopIterations is Options.MaxLoopIterations's default,
	// the number of iterations bpf_loop allows.
	DefaultMaxLoopIterations = 1 << 23
	// MaxStack is the stack all active frames may use together, in bytes,
	// as in Linux (MAX_BPF_STACK).
	MaxStack = 512
	// MaxCallFrames is the deepest chain of BPF-to-BPF calls, counting
	// the entry function (Linux's MAX_CALL_FRAMES).
	MaxCallFrames = 8
)

// MapInfo describes one map as the verifier needs it.
type MapInfo struct {
	Name       string
	Type       platform.MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	// ReadOnlyProg: programs may not write the map's values (.rodata,
	// BPF_F_RDONLY_PROG).
	ReadOnlyProg bool
	// WriteOnlyProg: programs may not read the map's values
	// (BPF_F_WRONLY_PROG), neither with loads nor through helpers.
	WriteOnlyProg bool
	// Constant, for a ReadOnlyProg map, holds the bytes of its one value
	// when neither programs nor user space can change them after
	// verification (the .kconfig values the runtime filled in): loads at
	// a constant offset within them read constants, so that code these
	// values rule out is never followed, as Linux does for a frozen
	// read-only map. Nil means the bytes are unknown.
	Constant []byte
	// Inner is the template of the maps a map-in-map holds.
	Inner *MapInfo
	// HasSpinLock says the value holds a struct bpf_spin_lock at
	// SpinLockOffset: bpf_spin_lock and bpf_spin_unlock take exactly that
	// word, and no load, store or other helper may touch it (as in Linux,
	// which knows it from BTF).
	HasSpinLock    bool
	SpinLockOffset uint32
	// HasTimer says the value holds a struct bpf_timer at TimerOffset:
	// the timer helpers take exactly its address (as in Linux, which
	// knows it from BTF).
	HasTimer    bool
	TimerOffset uint32
}

// Result is what a successful verification found.
type Result struct {
	// ContextAccesses are the slot indices of every load and store through
	// the unmodified context pointer, sorted: the input of
	// platform.Rewrite.
	ContextAccesses []int
	// MapArgs holds, for each instruction slot, the index into
	// Options.Maps of the map that the helper call there takes as its map
	// argument (bpf_map_lookup_elem's r1, bpf_tail_call's r2), when it is
	// the same map, loaded by an lddw, on every path that reaches the
	// call; -1 everywhere else (other instructions, calls never reached,
	// maps taken from a map-in-map). Engines use it to specialise calls.
	MapArgs []int
	// ProbeLoads are the slot indices of the loads through BTF-typed
	// kernel pointers, sorted: at run time each reads its value when the
	// address lies in memory the run may read and 0 otherwise, as Linux's
	// PROBE_MEM loads do (vm.Program.ProbeLoads).
	ProbeLoads []int
	// TailCalls says a call of bpf_tail_call is reachable: a run may
	// continue in another program.
	TailCalls bool
	// ZeroEntryFrame says the program may read bytes of the entry
	// function's frame that it has not written (a load or a helper's
	// argument, uninit.go): each run must then start with that frame all
	// zeroes (EntryFrameZeroed). Programs without it read only stack they
	// wrote there, and the run time may leave the frame as the last run
	// left it.
	ZeroEntryFrame bool
	// ZeroCallFrames says the program may read bytes of a frame that a
	// BPF-to-BPF call or a callback entered which that call has not
	// written: each call must then start with its frame all zeroes
	// (CallFramesZeroed). Programs without it leave calls free of the clear.
	ZeroCallFrames bool
	// Instructions is the program's length in slots.
	Instructions int
	// Iterations is how many times a basic block was processed in all.
	Iterations int
	// Processed is how many instructions were processed in all, with
	// copies and joins of large states counted as the instructions they
	// cost: the count Limits.MaxInstructions bounds.
	Processed int
	// States is how many abstract states were computed and kept (block
	// entries and exits, over all analyses of every function).
	States int
	// MaxStack is the deepest combined stack of any call chain, in bytes.
	MaxStack int
	// PeakStateBytes is the most memory the kept states held at once, the
	// amount Limits.MaxStateBytes bounds.
	PeakStateBytes int64
	// Duration is the time the analysis took.
	Duration time.Duration
}

// Errors.
var (
	// ErrRejected is wrapped by every *VerifierError: the program may be
	// unsafe (or the verifier cannot prove it safe).
	ErrRejected = errors.New("program rejected by the verifier")
	// ErrLimit is wrapped when the analysis ran out of iterations or time.
	ErrLimit = errors.New("verification limit reached")
	// ErrOptions is returned for unusable options (no program type, no
	// ABI).
	ErrOptions = errors.New("invalid verifier options")
)

// Error is one finding: the instruction, its source line and what may go
// wrong there.
type Error struct {
	PC      int
	Source  string // "fw.c:41", or empty
	Message string
}

func (e Error) String() string {
	if e.PC < 0 {
		return e.Message
	}
	if e.Source != "" {
		return fmt.Sprintf("insn %d (%s): %s", e.PC, e.Source, e.Message)
	}
	return fmt.Sprintf("insn %d: %s", e.PC, e.Message)
}

// VerifierError is a rejected program with every finding, sorted by
// instruction. Its Error method reports the first.
type VerifierError struct {
	Program string
	Errors  []Error
	// Limit is the limit the analysis stopped at, if it did.
	Limit *LimitError
	// limit is set when the analysis stopped at a limit.
	limit bool
}

func (e *VerifierError) Error() string {
	prefix := "verifier: "
	if e.Program != "" {
		prefix += "program " + e.Program + ": "
	}
	if len(e.Errors) == 0 {
		return prefix + "rejected"
	}
	msg := prefix + e.Errors[0].String()
	if n := len(e.Errors) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return msg
}

// Unwrap lets errors.Is match ErrRejected, and ErrLimit for limits.
func (e *VerifierError) Unwrap() []error {
	if e.Limit != nil {
		return []error{ErrRejected, e.Limit}
	}
	if e.limit {
		return []error{ErrRejected, ErrLimit}
	}
	return []error{ErrRejected}
}

// Verify proves a program safe for its program type, or says why it cannot.
// The program must be whole (every function it calls linked in) with map
// references in the object package's form. It returns a *VerifierError
// (wrapping ErrRejected) when the program is rejected, an
// *isa.ValidationError when it is malformed, and an error wrapping
// ErrOptions for unusable options.
func Verify(prog []isa.Instruction, opts Options) (*Result, error) {
	if opts.Type == nil || opts.ABI == nil {
		return nil, fmt.Errorf("%w: Type and ABI are required", ErrOptions)
	}
	if err := isa.Validate(prog); err != nil {
		return nil, err
	}
	runs.Add(1)
	return verifyPaths(prog, &opts)
}
