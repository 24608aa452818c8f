package interp_test

import (
	"fmt"
	"testing"

	"github.com/bpfhost/bpfhost/internal/enginetest"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// tracing is the interpreter with a trace hook on every run. The hook counts
// the instruction slots it is shown, which must add up to the run's count of
// executed instructions, and checks that every instruction it sees belongs to
// the program.
type tracing struct{ e vm.Engine }

func (t tracing) Name() string { return "traced" }

func (t tracing) Compile(p *vm.Program, opts vm.CompileOptions) (vm.Executable, error) {
	exe, err := t.e.Compile(p, opts)
	if err != nil {
		return nil, err
	}
	return &tracingExe{Executable: exe, prog: p.Instructions}, nil
}

type tracingExe struct {
	vm.Executable
	prog []isa.Instruction
}

func (x *tracingExe) Run(rc *vm.RunContext) (uint64, error) {
	var slots uint64
	var bad error
	// Targets of tail calls made in subprograms run inside this run, with
	// the same hook: their steps are theirs, and the slot count no longer
	// adds up to this program's alone.
	base, nested := rc.TailNesting(), false
	rc.Trace = func(exe vm.Executable, pc int, regs *[11]uint64) {
		if rc.TailNesting() > base {
			nested = true
			return
		}
		if exe != x.Executable && bad == nil {
			bad = fmt.Errorf("trace names executable %p, want %p", exe, x.Executable)
		}
		if pc < 0 || pc >= len(x.prog) {
			if bad == nil {
				bad = fmt.Errorf("trace reports instruction %d of a %d-slot program", pc, len(x.prog))
			}
			return
		}
		slots++
		if x.prog[pc].IsLoadImm64() {
			slots++
		}
	}
	r0, err := x.Executable.Run(rc)
	rc.Trace = nil
	if bad != nil {
		return r0, bad
	}
	if err == nil && rc.TailCall == nil && !nested && slots != rc.Executed {
		return r0, fmt.Errorf("trace showed %d instruction slots, the run executed %d", slots, rc.Executed)
	}
	return r0, err
}

// Traced runs behave as untraced ones: every semantics suite, run on both
// and compared (results, errors, instruction counts, stack and memory).
func TestTracedRuns(t *testing.T) {
	e := enginetest.Agree(interp.New(), tracing{interp.New()})
	t.Run("semantics", func(t *testing.T) { enginetest.Semantics(t, e) })
	t.Run("calls", func(t *testing.T) { enginetest.LocalCalls(t, e) })
	t.Run("frames", func(t *testing.T) { enginetest.CheckedFrames(t, e) })
	t.Run("budget", func(t *testing.T) { enginetest.Budget(t, e) })
	t.Run("checked", func(t *testing.T) { enginetest.CheckedFaults(t, e) })
	t.Run("helpers", func(t *testing.T) { enginetest.Helpers(t, e) })
	t.Run("callbacks", func(t *testing.T) { enginetest.Callbacks(t, e) })
	t.Run("packet", func(t *testing.T) { enginetest.LegacyPacketLoads(t, e) })
	t.Run("tailcalls", func(t *testing.T) { enginetest.TailCalls(t, e) })
	t.Run("subprogram tail calls", func(t *testing.T) { enginetest.SubprogramTailCalls(t, e, interp.New()) })
	t.Run("conformance", func(t *testing.T) { enginetest.Conformance(t, e) })
}

// TestTraceOrder checks the sequence of instructions a traced run reports,
// through a loop, a call and a jump over an lddw.
func TestTraceOrder(t *testing.T) {
	prog, err := isa.Assemble(`
		mov r0, 0
		mov r1, 2
	loop:
		add r0, r1
		sub r1, 1
		jne r1, 0, loop
		call local f
		ja end
		lddw r0, 5
	end:
		exit
	f:
		lddw r2, 7
		exit
	`)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := interp.New().Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{Mode: vm.Checked})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	rc := &vm.RunContext{Trace: func(_ vm.Executable, pc int, regs *[11]uint64) { got = append(got, pc) }}
	r0, err := exe.Run(rc)
	if err != nil || r0 != 3 {
		t.Fatalf("run: r0=%d, err=%v; want 3", r0, err)
	}
	want := []int{0, 1, 2, 3, 4, 2, 3, 4, 5, 10, 12, 6, 9}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("traced instructions %v, want %v", got, want)
	}
}
