package vm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// Region is a range of host memory that a run may access.
type Region struct {
	Start    uintptr // first byte
	Size     uintptr
	Writable bool
	Name     string // what it is, for errors: "context", "packet", "map value"
	// Memory references what the region describes. A uintptr alone neither
	// keeps memory alive nor stops the compiler from placing it on a
	// goroutine stack, which moves; holding it here does both. RegionOf
	// sets it; set it whenever Start comes from a Go pointer.
	Memory any
}

// End returns the first address past the region.
func (r Region) End() uintptr { return r.Start + r.Size }

// contains reports whether [addr, addr+size) lies inside the region.
func (r Region) contains(addr uintptr, size uintptr) bool {
	return addr >= r.Start && size <= r.Size && addr-r.Start <= r.Size-size
}

// RegionOf describes the memory of a byte slice. The region references the
// slice, which makes the compiler allocate it on the heap (where it never
// moves) and keeps it alive as long as the region is.
func RegionOf(name string, b []byte, writable bool) Region {
	if len(b) == 0 {
		return Region{Name: name}
	}
	return Region{Start: uintptr(unsafe.Pointer(&b[0])), Size: uintptr(len(b)), Writable: writable, Name: name, Memory: b}
}

// AccessError is a checked-mode load or store outside the run's regions.
type AccessError struct {
	Addr  uint64
	Size  int
	Write bool
	// Near names the closest region, to help read the error; empty if none.
	Near string
}

func (e *AccessError) Error() string {
	what := "read"
	if e.Write {
		what = "write"
	}
	msg := fmt.Sprintf("invalid memory %s of %d bytes at %#x", what, e.Size, e.Addr)
	if e.Near != "" {
		msg += " (" + e.Near + ")"
	}
	return msg
}

// RunContext carries everything one run needs besides the program. It is
// reusable: Reset clears what a run set, and keeping one per goroutine (or per
// execution slot) avoids allocating a stack for every run.
type RunContext struct {
	// Args are r1 to r5 on entry.
	Args [5]uint64
	// Regions are the memory a checked run may access besides its stack:
	// context, packet, map values, global data. Trusted runs ignore them.
	Regions []Region
	// Packet is the packet that legacy LD_ABS/LD_IND loads read.
	Packet []byte
	// Budget is the most instructions the run may execute; 0 means
	// DefaultBudget.
	Budget uint64
	// Slot is the execution slot (the "CPU") the run holds.
	Slot int
	// Value is for whoever set up the run: helpers find their state here.
	Value any

	// Executed is set by Run: how many instructions the run executed.
	Executed uint64
	// Mode and Depth are maintained by the engine during a run: the memory
	// mode and the current call depth. Helpers read them through Check.
	Mode  Mode
	Depth int

	// TailCall is set by the tail-call helper: the program to continue
	// with. An engine that sees it set after a helper returns in the main
	// function stops the current program at once, and vm.Run then starts
	// this one; in a deeper function it runs this one in that function's
	// place (TailCallInPlace).
	TailCall Executable
	// TailCalls counts the tail calls taken in this run.
	TailCalls int

	// Trace, if set, is called before every instruction a run executes,
	// with the executable running, the instruction's slot index and
	// registers r0 to r10 (rc.Depth is the call depth, the stack is
	// rc.Stack()). It is for oracles that compare runs with the verifier's
	// view of the program. Only the interpreter traces (the JIT ignores
	// it), and it pays for it only in traced runs.
	Trace func(exe Executable, pc int, regs *[11]uint64)

	// EngineState is the engine's to keep per-context scratch state in
	// between runs, so that a reused RunContext runs without allocating.
	EngineState any

	// Call is set by the engine for programs that pass functions to
	// helpers (bpf_loop, bpf_for_each_map_elem); see CallFunc.
	Call func(fn, r1, r2, r3, r4, r5 uint64) (uint64, error)

	// Context, if not nil, cancels the run: it is checked before vm.Run
	// starts each program of a tail-call chain, at every helper call, at
	// every callback a helper makes and as helpers charge work, and the run then ends with an error that
	// wraps ErrCanceled and the context's cause. Code that runs no
	// helper is bounded by the instruction budget instead.
	Context context.Context

	stack *Stack
	// nest is how many tail calls made in subprograms are running inside
	// one another; levels keeps each nesting level's stack and engine
	// state (tailcall.go).
	nest   int
	levels []level
	// Work that helpers charge (see Charge): pending units of the helper
	// call in progress, the budget left when it started, whether an
	// engine metered it, and units since the last cancellation check.
	work, workLeft, sinceCheck uint64
	metered                    bool
}

// ErrCanceled is wrapped by the error of a run whose RunContext.Context was
// canceled or reached its deadline.
var ErrCanceled = errors.New("run canceled")

// cancelCheckEvery is how many units of charged work pass between two
// checks of the run's context.
const cancelCheckEvery = 1 << 10

// Canceled returns an error wrapping ErrCanceled and the cause if the run's
// Context is done, nil otherwise.
func (rc *RunContext) Canceled() error {
	if rc.Context == nil {
		return nil
	}
	select {
	case <-rc.Context.Done():
		return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(rc.Context))
	default:
		return nil
	}
}

// Charge counts n units of work a helper does besides the instruction
// that called it (an iteration of a callback loop, a map bucket visited,
// 64 bytes copied or hashed) against the run's instruction budget, so that
// a helper's work cannot make a run cost more than its budget. It returns
// ErrBudgetExceeded when the budget runs out and the cancellation error
// when the run's Context is done (checked every cancelCheckEvery units);
// the helper then stops and returns the error. Outside a metered helper
// call (a helper called directly, not by an engine) only cancellation is
// checked.
func (rc *RunContext) Charge(n uint64) error {
	if rc.metered {
		if n > rc.workLeft-rc.work { // rc.work <= rc.workLeft holds
			rc.work = rc.workLeft
			return ErrBudgetExceeded
		}
		rc.work += n
	}
	if rc.sinceCheck += n; rc.sinceCheck >= cancelCheckEvery {
		rc.sinceCheck = 0
		return rc.Canceled()
	}
	return nil
}

// EnterHelper is called by an engine before it calls a helper, with the
// budget the run has left: the helper's Charge calls may use at most that
// much. It returns the cancellation error if the run's Context is done.
func (rc *RunContext) EnterHelper(left uint64) error {
	rc.work, rc.workLeft, rc.metered = 0, left, true
	if rc.Context != nil {
		return rc.Canceled()
	}
	return nil
}

// LeaveHelper is called by an engine when a helper returns, and before a
// callback the helper makes runs: it returns the work charged since
// EnterHelper, which the engine adds to the instructions executed.
func (rc *RunContext) LeaveHelper() uint64 {
	w := rc.work
	rc.work, rc.metered = 0, false
	return w
}

// CallFunc runs a function of the running program as a callback: fn is what
// the program's lddw with source form 4 (isa.PseudoFunc) loaded. It behaves
// as a BPF-to-BPF call from the frame that called the helper (a new frame,
// r1..r5 as given, r0 returned) and shares the run's instruction budget.
func (rc *RunContext) CallFunc(fn, r1, r2, r3, r4, r5 uint64) (uint64, error) {
	if rc.Call == nil {
		return 0, fmt.Errorf("%w: this program passes no functions to helpers", ErrUnsupported)
	}
	return rc.Call(fn, r1, r2, r3, r4, r5)
}

// Stack returns the run's stack, allocating it on first use.
func (rc *RunContext) Stack() *Stack {
	if rc.stack == nil {
		rc.stack = new(Stack)
	}
	return rc.stack
}

// Begin prepares rc for a run in mode, as every engine's Run starts: call
// depth 0, and a cleared entry frame in checked mode or when zero (the
// program's Program.ZeroEntryFrame) asks for it (in checked mode deeper
// frames are cleared too, as calls enter them, so that unverified programs
// that read stack they never wrote behave the same on every run). It
// returns the stack and the run's budget: rc.Budget, or DefaultBudget.
//
// The cleared entry frame is a guarantee the verifier relies on (see
// EntryFrameZeroed): it lets loads and helpers read bytes of the entry
// function's frame that the program has not written, as Linux does for
// privileged loaders, and those bytes then hold 0 or what this run wrote
// there, never an earlier run's data. A program that reads no such bytes
// reads only what it wrote, and skips the clear. Frames that calls enter
// are cleared by the engines as the call enters them (CallFramesZeroed). Tail calls start through Begin
// too, with the flag of the program they start.
func (rc *RunContext) Begin(mode Mode, zero bool) (*Stack, uint64) {
	stack := rc.Stack()
	rc.Mode, rc.Depth = mode, 0
	if zero || mode == Checked {
		stack.ClearFrame(0)
	}
	return stack, rc.budget()
}

// EntryFrameZeroed is true: every run of a program that asks for it
// (Program.ZeroEntryFrame, set from the verifier's fact), and every such
// program a tail call starts, begins with its entry frame (depth 0) all
// zeroes (Begin). The
// verifier's rule for reads of unwritten stack bytes
// (verifier.EntryFrameZeroed) is this same fact; a test ties the two.
const EntryFrameZeroed = true

// CallFramesZeroed is true: in every run of a program that asks for it
// (Program.ZeroCallFrames), and in every checked run, each BPF-to-BPF call
// and each callback clears the frame it enters before its first
// instruction, in both engines; a tail call's target gets its own flag.
// The verifier's rule for reads of unwritten bytes of called functions'
// frames (verifier.CallFramesZeroed) is this same fact.
const CallFramesZeroed = true

// budget is rc.Budget, or DefaultBudget if it is 0.
func (rc *RunContext) budget() uint64 {
	if rc.Budget == 0 {
		return DefaultBudget
	}
	return rc.Budget
}

// Stack is the memory of a run's call frames. Frame 0 (the entry function)
// is at the top; each call's frame lies StackSize bytes below its caller's.
// It is heap-allocated, so its address never changes (Go's collector does not
// move heap objects; only goroutine stacks move).
type Stack struct {
	mem [StackFrames * StackSize]byte
}

// Top returns the address one past the highest byte: r10 of frame 0.
func (s *Stack) Top() uint64 {
	return uint64(uintptr(unsafe.Pointer(&s.mem[0]))) + StackFrames*StackSize
}

// FramePointer returns r10 for the frame at the given call depth.
func (s *Stack) FramePointer(depth int) uint64 { return s.Top() - uint64(depth)*StackSize }

// Region returns the stack memory that is live at a call depth: the frames of
// the current function and all its callers.
func (s *Stack) Region(depth int) Region {
	size := uintptr(depth+1) * StackSize
	return Region{Start: uintptr(s.Top()) - size, Size: size, Writable: true, Name: "stack"}
}

// ClearFrame zeroes the frame at a call depth. Checked runs clear each frame
// when it is entered, so that unverified programs that read stack they never
// wrote behave the same on every run and in every engine.
func (s *Stack) ClearFrame(depth int) {
	top := len(s.mem) - depth*StackSize
	clear(s.mem[top-StackSize : top])
}

// Bytes returns the stack memory as a slice, for tests and debuggers.
func (s *Stack) Bytes() []byte { return s.mem[:] }

// Check validates an access of size bytes at addr against the live stack
// frames and the run's regions, and returns an *AccessError if it falls
// outside them or writes to a read-only region.
func (rc *RunContext) Check(addr uint64, size int, write bool) error {
	depth := rc.Depth
	a, n := uintptr(addr), uintptr(size)
	if uint64(a) == addr { // fits the host's address width
		if rc.stack != nil && rc.stack.Region(depth).contains(a, n) {
			return nil
		}
		for i := range rc.Regions {
			r := &rc.Regions[i]
			if r.contains(a, n) {
				if write && !r.Writable {
					return &AccessError{Addr: addr, Size: size, Write: write, Near: "read-only " + r.Name}
				}
				return nil
			}
		}
	}
	return &AccessError{Addr: addr, Size: size, Write: write, Near: rc.near(a)}
}

// CheckArg validates a helper's memory argument [addr, addr+size) in checked
// runs; in trusted runs the verifier has proven it and CheckArg returns nil.
// Size 0 is always valid.
func (rc *RunContext) CheckArg(addr uint64, size uint64, write bool) error {
	if size == 0 || rc.Mode == Trusted {
		return nil
	}
	if size > 1<<31 {
		return &AccessError{Addr: addr, Size: int(min(size, 1<<62)), Write: write}
	}
	return rc.Check(addr, int(size), write)
}

func (rc *RunContext) near(a uintptr) string {
	best, dist := "", ^uintptr(0)
	consider := func(r Region) {
		var d uintptr
		switch {
		case a < r.Start:
			d = r.Start - a
		case a >= r.End():
			d = a - r.End() + 1
		}
		if d < dist && d < 1<<16 {
			best, dist = r.Name, d
			if a >= r.End() {
				best = fmt.Sprintf("%d bytes past the end of %s", d-1, r.Name)
			} else if a < r.Start {
				best = fmt.Sprintf("%d bytes before %s", d, r.Name)
			} else {
				best = "overlaps the end of " + r.Name
			}
		}
	}
	if rc.stack != nil {
		if all := rc.stack.Region(MaxCallDepth); all.contains(a, 1) {
			return fmt.Sprintf("stack, below the live frames (call depth %d)", rc.Depth)
		}
		consider(rc.stack.Region(rc.Depth))
	}
	for _, r := range rc.Regions {
		consider(r)
	}
	return best
}

// Pointer converts an address a program computed into a pointer. Only call
// it for addresses that were checked or proven safe.
func Pointer(addr uint64) unsafe.Pointer {
	// Reinterpreting the bits (rather than unsafe.Pointer(uintptr(addr)))
	// says that this is a deliberate host address from program registers.
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}

// Bytes returns n bytes of host memory at addr as a slice, for helpers that
// were handed a pointer and a size. Only call it for checked or proven ranges.
func Bytes(addr uint64, n int) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(Pointer(addr)), n)
}

// Address returns the address of a pointer as a register value.
func Address(p unsafe.Pointer) uint64 { return uint64(uintptr(p)) }

// LoadPacket performs a legacy packet load (LD_ABS, LD_IND): the big-endian
// value of n bytes (1, 2 or 4) at off in pkt. ok is false when the load is
// out of bounds, which ends the program with r0 = 0, as in Linux.
func LoadPacket(pkt []byte, off int64, n int) (v uint64, ok bool) {
	if off < 0 || off > int64(len(pkt)-n) {
		return 0, false
	}
	p := pkt[off:]
	switch n {
	case 1:
		return uint64(p[0]), true
	case 2:
		return uint64(binary.BigEndian.Uint16(p)), true
	}
	return uint64(binary.BigEndian.Uint32(p)), true
}
