// Package containment runs programs under the verifier's containment check
// (verifier.Containment): each program is verified with its abstract states
// kept, then run in the checked interpreter with every step of the run
// compared with the state the verifier computed there. The engine suites
// (the bpf_conformance suite, the programs of internal/enginetest) use it on
// bare instructions in the calling convention of bpfhost's embedding type,
// r1 a buffer of r2 bytes; the root package's object tests share its
// Stepper, which turns a traced step into a verifier.Concrete.
package containment

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/bpfhost/bpfhost/internal/oracle"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// Stepper describes the steps of one traced run to the containment check.
// It reuses its buffers: the state At returns is valid until the next call.
type Stepper struct {
	// Mem is the run's memory by region kind.
	Mem *oracle.Memory
	// Tracker, if set, has followed the run up to the step: what the run
	// holds and the stack bytes it has written are checked.
	Tracker *oracle.Tracker

	held verifier.Held
	cs   verifier.Concrete
	// base holds the functions of Mem and Tracker, bound once: a method
	// value made at every step would cost an allocation each.
	base  verifier.Concrete
	bound struct {
		mem *oracle.Memory
		tr  *oracle.Tracker
	}
}

// At returns the concrete state of the step with registers regs.
func (s *Stepper) At(regs *[11]uint64) *verifier.Concrete {
	m, t := s.Mem, s.Tracker
	if s.bound.mem != m || s.bound.tr != t {
		s.bound.mem, s.bound.tr = m, t
		s.base = verifier.Concrete{FramePointer: m.FramePointer, Load: m.Load, Element: m.Element, Elements: m.Elements, MapHandle: m.MapHandle}
		if m.LeakCheck {
			s.base.Owned = m.Owns
		}
		if t != nil {
			s.base.Written, s.base.Held = t.Written, &s.held
		}
	}
	s.cs = s.base
	s.cs.Regs, s.cs.Depth = *regs, m.RC.Depth
	s.cs.Context, s.cs.Packet, s.cs.Meta, s.cs.Data, s.cs.End = m.Context, m.Packet, m.Meta, m.Data, m.End
	if t != nil {
		s.held.Lock, s.held.Records = t.Lock(), s.held.Records[:0]
		for _, r := range t.Records() {
			s.held.Records = append(s.held.Records, verifier.HeldRecord{Start: r.Start, Site: r.Site, Depth: r.Depth})
		}
		s.held.Sockets = s.held.Sockets[:0]
		for _, sk := range t.Sockets() {
			s.held.Sockets = append(s.held.Sockets, verifier.HeldRecord{Start: sk.Start, Site: sk.Site, Depth: sk.Depth})
		}
	}
	return &s.cs
}

// Generic is the name of the program type raw programs are verified as:
// bpfhost's embedding type, whose r1 is a buffer of r2 bytes the program
// may read and write (the bpf_conformance suite's calling convention).
const Generic = "bpfhost"

// Program is a raw program: bare instructions in the Generic type's
// calling convention, and the helpers it calls by Linux helper ID (the verifier
// checks each call against that ID's prototype).
type Program struct {
	Name    string
	Insns   []isa.Instruction
	Helpers vm.Helpers
}

// Checked is a program the verifier accepted, compiled for the checked
// interpreter with the verifier's states kept for its runs.
type Checked struct {
	p    Program
	info *platform.ProgramTypeInfo
	cont *verifier.Containment
	exe  vm.Executable
}

// Verify verifies p as the Generic type, keeping the states for
// containment, and compiles it. A rejection is an error wrapping
// verifier.ErrRejected or verifier.ErrLimit.
func Verify(p Program) (*Checked, error) {
	info, ok := linux.Lookup(Generic)
	if !ok {
		return nil, fmt.Errorf("%s: no program type %q", p.Name, Generic)
	}
	cont := &verifier.Containment{}
	res, err := verifier.Verify(p.Insns, verifier.Options{Name: p.Name, Type: info, ABI: linux.ABI(), Containment: cont})
	if err != nil {
		return nil, err
	}
	insns := p.Insns
	if info.Context != nil {
		if insns, err = platform.Rewrite(insns, info.Context, res.ContextAccesses); err != nil {
			return nil, fmt.Errorf("%s: rewrite: %w", p.Name, err)
		}
	}
	exe, err := interp.New().Compile(&vm.Program{Instructions: insns, Helpers: p.Helpers, ZeroEntryFrame: res.ZeroEntryFrame, ZeroCallFrames: res.ZeroCallFrames}, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		return nil, fmt.Errorf("%s: accepted by the verifier, refused by the interpreter: %w", p.Name, err)
	}
	return &Checked{p: Program{Name: p.Name, Insns: insns, Helpers: p.Helpers}, info: info, cont: cont, exe: exe}, nil
}

// Close releases the compiled program.
func (c *Checked) Close() error { return c.exe.Close() }

// Run is what one checked run did.
type Run struct {
	// R0 is the program's result; Err the run's error (vm.ErrBudgetExceeded
	// for a run stopped by its budget).
	R0  uint64
	Err error
	// Steps is how many instructions were checked.
	Steps int
}

// ErrFault marks a fault of an accepted program in the checked
// interpreter: a memory access outside its regions, or another error than
// the budget's.
var ErrFault = errors.New("an accepted program faulted")

// Run runs the program once on a copy of input, at most budget
// instructions, with every step checked against the verifier's states.
// It returns an error naming the program, the input and the instruction
// for the first state outside them (wrapping the *verifier.Violation), or
// wrapping ErrFault for a fault; the run's own result is in Run.
func (c *Checked) Run(input []byte, budget uint64) (Run, error) {
	// The buffer is on the heap (goroutine stacks move) and never empty, so
	// that an empty input still has an address: the type's r1 is never NULL.
	buf := make([]byte, max(len(input), 1))
	copy(buf, input)
	addr := vm.Address(unsafe.Pointer(&buf[0]))
	args, err := c.info.EntryArgs(addr, len(input))
	if err != nil {
		return Run{}, fmt.Errorf("%s: %w", c.p.Name, err)
	}
	rc := &vm.RunContext{Args: args, Budget: budget,
		Regions: []vm.Region{{Start: uintptr(addr), Size: uintptr(len(input)), Writable: true, Name: "buffer", Memory: buf}}}
	mem := &oracle.Memory{RC: rc, Packet: true, Meta: addr, Data: addr, End: addr + uint64(len(input))}
	tr := &oracle.Tracker{Mem: mem, Insns: c.p.Insns, Helper: linux.ABI().HelperByID}
	st := &Stepper{Mem: mem, Tracker: tr}
	walk := c.cont.Walk()
	var run Run
	var first error
	rc.Trace = func(_ vm.Executable, pc int, regs *[11]uint64) {
		if first != nil {
			return // the run goes on checked by the interpreter alone
		}
		run.Steps++
		tr.Step(pc, regs, rc.Depth)
		first = walk.Step(pc, st.At(regs))
	}
	run.R0, run.Err = c.exe.Run(rc)
	runtime.KeepAlive(buf)
	if first != nil {
		return run, fmt.Errorf("program %s, input (%d bytes) %x: %w", c.p.Name, len(input), input, first)
	}
	if run.Err != nil && !errors.Is(run.Err, vm.ErrBudgetExceeded) {
		return run, fmt.Errorf("program %s, input (%d bytes) %x: %w: %w", c.p.Name, len(input), input, ErrFault, run.Err)
	}
	return run, nil
}
