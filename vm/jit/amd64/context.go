package amd64

import (
	"unsafe"

	"github.com/bpfhost/bpfhost/vm"
)

// context is the memory the generated code and Run share during one run.
// The code receives its address in ctxReg on every entry and keeps nothing
// else between entries: BPF registers, the call frames (callContext) and
// the budget all live here while Go runs, so that the code can leave from
// any call depth and continue where it left off. It lives on Run's stack:
// the code holds its address only between an entry and the next exit, and
// it is passed afresh on every entry, so the goroutine stack may move while
// Go runs.
type context struct {
	// r0..r10 while Go runs. The code reads them only on entry, so it may
	// use them as scratch between exits (inline hash lookups do).
	regs   [11]uint64
	budget int64     // instructions left in the current chunk (budgetReg)
	resume uintptr   // absolute address the code continues at on entry
	exit   uint64    // index into executable.exits of the exit taken
	depth  uint64    // BPF-to-BPF call depth
	base   uint64    // the depth whose exit ends this run (callbacks run deeper)
	addr   uint64    // checked mode: the address to check
	spill  [3]uint64 // registers saved around divisions and atomics
	// limit[i] is the highest address at which an access of 1<<i bytes
	// still lies below the stack top (checked mode).
	limit [4]uint64
	slot  uint64 // rc.Slot, for per-CPU arrays
	// regTab and regEnd delimit the run's regions as checked code tests
	// them inline (regions.go); both 0 until Run fills the table.
	regTab, regEnd uint64
	// lastHit is the table entry that allowed the last access that
	// searched it, if it overlaps no earlier entry (so that it is the
	// first match for any address it contains); 0 for none. Reset with
	// regTab.
	lastHit uint64
}

// callContext is the context of programs that make BPF-to-BPF calls: the
// frames follow the header. Programs without calls get a bare context, which
// is cheaper to clear on every run.
type callContext struct {
	context
	frames [vm.MaxCallDepth]frame
}

// frame is a BPF-to-BPF call frame: where to return and the caller's
// callee-saved registers. Its size is a power of two so the code can index
// frames with a shift.
type frame struct {
	ret            uint64 // absolute code address after the call
	r6, r7, r8, r9 uint64
	_              [3]uint64
}

const (
	frameShift = 6
	// Field offsets the generated code uses.
	offRegs    = int32(unsafe.Offsetof(context{}.regs))
	offBudget  = int32(unsafe.Offsetof(context{}.budget))
	offResume  = int32(unsafe.Offsetof(context{}.resume))
	offExit    = int32(unsafe.Offsetof(context{}.exit))
	offDepth   = int32(unsafe.Offsetof(context{}.depth))
	offBase    = int32(unsafe.Offsetof(context{}.base))
	offAddr    = int32(unsafe.Offsetof(context{}.addr))
	offSpill   = int32(unsafe.Offsetof(context{}.spill))
	offLimit   = int32(unsafe.Offsetof(context{}.limit))
	offSlot    = int32(unsafe.Offsetof(context{}.slot))
	offRegTab  = int32(unsafe.Offsetof(context{}.regTab))
	offRegEnd  = int32(unsafe.Offsetof(context{}.regEnd))
	offLastHit = int32(unsafe.Offsetof(context{}.lastHit))
	offFrames  = int32(unsafe.Offsetof(callContext{}.frames))
	offFrameR  = int32(unsafe.Offsetof(frame{}.r6)) // r6..r9 follow
)

// Compile-time check that frames are 1<<frameShift bytes.
var _ [1]struct{} = [unsafe.Sizeof(frame{}) >> frameShift]struct{}{}

// Register mapping (see doc.go): BPF register i lives in bpfReg[i].
var bpfReg = [11]reg{rax, rdi, rsi, rdx, rcx, r8, rbx, r13, r14, r15, rbp}

// Registers with a fixed job in generated code.
const (
	ctxReg    = r9  // *context
	budgetReg = r12 // instructions left in the chunk
	tmp1      = r10 // scratch
	tmp2      = r11 // scratch; carries the exit index to commonExit
)

// Exit kinds: why the code returned to Run.
const (
	exitReturn    = iota // exit at the base call depth: the run is over
	exitBudget           // the chunk ran out at a taken jump, call or return
	exitHelper           // call a helper by index
	exitCallx            // call the helper whose ID is in a register
	exitCallDepth        // a local call would exceed vm.MaxCallDepth
	exitPacket           // legacy LD_ABS/LD_IND packet load
	exitCheck            // checked mode: an access outside the live stack frames
	exitLookup           // bpf_map_lookup_elem on a map known at compile time
	exitProbe            // a load through a BTF pointer (vm.RunContext.Probe)
)

// exitInfo describes one place where the code leaves for Run.
type exitInfo struct {
	kind   uint8
	size   uint8 // access size in bytes (exitCheck, exitPacket, exitProbe)
	write  bool  // exitCheck
	atomic bool  // exitCheck: also check alignment; exitProbe: sign-extend
	pc     int32 // the instruction that exits
	// partial is how many instructions of the current block, up to and
	// including pc, the budget has not been charged for yet.
	partial int32
	// arg is the helper index (exitHelper), the register holding the ID
	// (exitCallx), the index register of LD_IND (exitPacket; -1 for
	// LD_ABS), the lookup (exitLookup, executable.lookups) or the
	// destination register (exitProbe).
	arg    int32
	imm    int32 // exitPacket: the constant offset
	resume int32 // code offset to continue at
}
