package helpers

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/maps"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit"
)

// costEngines are the engines and modes whose runs must charge helper work.
func costEngines(t *testing.T) map[string]struct {
	engine vm.Engine
	mode   vm.Mode
} {
	out := map[string]struct {
		engine vm.Engine
		mode   vm.Mode
	}{
		"interp/trusted": {interp.New(), vm.Trusted},
		"interp/checked": {interp.New(), vm.Checked},
	}
	if jit.Available() == nil {
		out["jit"] = struct {
			engine vm.Engine
			mode   vm.Mode
		}{jit.New(), vm.Trusted}
	}
	return out
}

const emptyCallback = `
	mov %r0, 0
	exit`

// TestLoopChargesIterations checks F7: each bpf_loop iteration is charged to
// the run's budget on top of the callback's instructions, in every engine.
func TestLoopChargesIterations(t *testing.T) {
	for name, e := range costEngines(t) {
		exe := compileWithCallback(t, e.engine, `
			mov %r1, 1000
			lddw %r2, 0
			mov %r3, 0
			mov %r4, 0
			call 181
			exit`, emptyCallback, newHost(), e.mode)
		rc := &vm.RunContext{}
		got, err := vm.Run(exe, rc)
		if err != nil || got != 1000 {
			t.Fatalf("%s: bpf_loop = %d, %v", name, got, err)
		}
		// 7 instruction slots of main, 2 per callback, 1 unit per iteration.
		if want := uint64(7 + 2*1000 + 1000); rc.Executed != want {
			t.Errorf("%s: executed %d, want %d (iterations charged)", name, rc.Executed, want)
		}
		rc = &vm.RunContext{Budget: 2500}
		if _, err := vm.Run(exe, rc); !errors.Is(err, vm.ErrBudgetExceeded) {
			t.Errorf("%s: budget 2500: %v; want the budget exceeded", name, err)
		}
	}
}

// TestForEachChargesEmptyBuckets is F7a in small: bpf_for_each_map_elem
// over an empty hash does no callback but visits every bucket, and that is
// charged, so a run of calls over an empty hash exhausts its budget.
func TestForEachChargesEmptyBuckets(t *testing.T) {
	for name, e := range costEngines(t) {
		env := newEnv(t, e.mode)
		_, ptr := env.newMap(maps.Spec{Name: "h", Type: maps.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 1 << 16}, 1)
		exe := compileWithCallback(t, e.engine, fmt.Sprintf(`
			lddw %%r1, %#x
			lddw %%r2, 0
			mov %%r3, 0
			mov %%r4, 0
			call 164
			exit`, ptr), emptyCallback, env.host, e.mode)
		env.rc.Budget = 0
		if _, err := vm.Run(exe, env.rc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if env.rc.Executed < 1<<16 {
			t.Errorf("%s: executed %d for a walk over %d buckets", name, env.rc.Executed, 1<<16)
		}
		env.rc.Budget = 1 << 12
		if _, err := vm.Run(exe, env.rc); !errors.Is(err, vm.ErrBudgetExceeded) {
			t.Errorf("%s: budget %d: %v; want the budget exceeded", name, 1<<12, err)
		}
	}
}

// TestRunCanceled is F7b in small: nested bpf_loop of 2^23 x 2^23 empty
// callbacks (hours) stops soon after its context is canceled.
func TestRunCanceled(t *testing.T) {
	for name, e := range costEngines(t) {
		m, err := assembleNested(t, e.engine, e.mode)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		_, err = vm.Run(m, &vm.RunContext{Context: ctx})
		cancel()
		if !errors.Is(err, vm.ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v; want canceled at the deadline", name, err)
		}
		// The run would take hours uncanceled; 30 s tells that apart on
		// any machine.
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s: stopped after %v", name, d)
		}
		// A context canceled before the run stops it at once.
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		if _, err := vm.Run(m, &vm.RunContext{Context: ctx}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: canceled context: %v", name, err)
		}
	}
}

// assembleNested is main -> bpf_loop(2^23, outer) and outer -> bpf_loop(2^23,
// inner), inner returning 0.
func assembleNested(t *testing.T, engine vm.Engine, mode vm.Mode) (vm.Executable, error) {
	prog, err := isa.Assemble(`
			mov %r1, 0x800000
			lddw %r2, 0
			mov %r3, 0
			mov %r4, 0
			call 181
			exit
			mov %r1, 0x800000
			lddw %r2, 0
			mov %r3, 0
			mov %r4, 0
			call 181
			mov %r0, 0
			exit
			mov %r0, 0
			exit`)
	if err != nil {
		return nil, err
	}
	// Slots: main 0-6 (lddw at 1), outer 7-14 (lddw at 8), inner 15-16.
	prog[1].Src, prog[1].Imm = isa.PseudoFunc, 7-2
	prog[8].Src, prog[8].Imm = isa.PseudoFunc, 15-9
	exe, err := engine.Compile(&vm.Program{Instructions: prog, Helpers: New(newHost())}, vm.CompileOptions{Mode: mode})
	if err == nil {
		t.Cleanup(func() { exe.Close() })
	}
	return exe, err
}

// TestCopyCharged checks that helpers that copy memory charge the bytes:
// bpf_probe_read of 4096 bytes is 64 units, more than a budget of 10 left.
func TestCopyCharged(t *testing.T) {
	e := newEnv(t, vm.Checked)
	_, dst := e.mem("dst", 4096, true)
	_, src := e.mem("src", 4096, false)
	if err := e.rc.EnterHelper(100); err != nil {
		t.Fatal(err)
	}
	if r, err := e.call(linux.FnProbeRead, dst, 4096, src); err != nil || r != 0 {
		t.Fatalf("probe_read with 100 units left: %d, %v", r, err)
	}
	if w := e.rc.LeaveHelper(); w != 4096/bytesPerUnit {
		t.Errorf("charged %d units for 4096 bytes, want %d", w, 4096/bytesPerUnit)
	}
	e.rc.EnterHelper(10)
	if _, err := e.call(linux.FnProbeRead, dst, 4096, src); !errors.Is(err, vm.ErrBudgetExceeded) {
		t.Errorf("probe_read with 10 units left: %v; want the budget exceeded", err)
	}
	e.rc.LeaveHelper()
}
