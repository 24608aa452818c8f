package enginetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bpfhost/bpfhost/vm"
)

// chargeHelper charges r1 units of work (vm.RunContext.Charge) and returns r1.
func chargeHelper(rc *vm.RunContext, n, _, _, _, _ uint64) (uint64, error) {
	if err := rc.Charge(n); err != nil {
		return 0, err
	}
	return n, nil
}

// meteredLoop is a bpf_loop that charges one unit per iteration, as the real
// one does.
func meteredLoop(rc *vm.RunContext, n, fn, ctx, _, _ uint64) (uint64, error) {
	for i := uint64(0); i < n; i++ {
		if err := rc.Charge(1); err != nil {
			return 0, err
		}
		r, err := rc.CallFunc(fn, i, ctx, 0, 0, 0)
		if err != nil {
			return 0, err
		}
		if r != 0 {
			return i + 1, nil
		}
	}
	return n, nil
}

// free charges nothing: the baseline charging helpers are compared with.
func free(_ *vm.RunContext, n, _, _, _, _ uint64) (uint64, error) { return n, nil }

var chargePrograms = []struct {
	name  string
	src   string
	extra uint64 // units charged beyond the instructions
}{
	{"helper work", `
	mov %r1, 1000
	call 3
	exit`, 1000},
	{"loop iterations", `
	mov %r1, 100
	lddw %r2, 0   #fn body
	mov %r3, 0
	call 4
	exit
body:
	mov %r0, 0
	exit`, 100},
	{"work in callbacks", `
	mov %r1, 10
	lddw %r2, 0   #fn body
	mov %r3, 0
	call 4
	exit
body:
	mov %r1, 50
	call 3
	mov %r0, 0
	exit`, 10 + 10*50},
	{"work around callbacks", `
	mov %r1, 7
	call 3
	mov %r1, 10
	lddw %r2, 0   #fn body
	mov %r3, 0
	call 4
	mov %r1, 9
	call 3
	exit
body:
	mov %r0, 0
	exit`, 7 + 10 + 9},
}

// Charges checks that the work helpers charge counts against the run's
// budget in both memory modes: charged units add to rc.Executed exactly,
// before, inside and after callbacks, and a budget that the charges fill
// stops the run (engines notice an instruction overrun only when control
// leaves a straight-line run, so the budget tested is the charges alone).
func Charges(t *testing.T, e vm.Engine) {
	metered := vm.Helpers{3: chargeHelper, 4: meteredLoop}
	baseline := vm.Helpers{3: free, 4: loopHelper}
	run := func(src string, h vm.Helpers, mode vm.Mode, budget uint64) (uint64, error) {
		exe, err := e.Compile(&vm.Program{Instructions: AssembleFunc(t, src), Helpers: h}, vm.CompileOptions{Mode: mode})
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		defer exe.Close()
		rc := &vm.RunContext{Budget: budget}
		_, err = exe.Run(rc)
		return rc.Executed, err
	}
	for _, tt := range chargePrograms {
		for _, mode := range modes {
			base, err := run(tt.src, baseline, mode, 0)
			if err != nil {
				t.Fatalf("%s (%v): baseline: %v", tt.name, mode, err)
			}
			got, err := run(tt.src, metered, mode, 0)
			if err != nil || got != base+tt.extra {
				t.Errorf("%s (%v): executed %d, %v; want %d instructions + %d charged", tt.name, mode, got, err, base, tt.extra)
			}
			if got, err := run(tt.src, metered, mode, base+tt.extra); err != nil || got != base+tt.extra {
				t.Errorf("%s (%v): budget %d: executed %d, %v; want enough", tt.name, mode, base+tt.extra, got, err)
			}
			// The charges alone fill this budget, the instructions go over.
			_, err = run(tt.src, metered, mode, tt.extra)
			var ee *vm.ExecError
			if !errors.Is(err, vm.ErrBudgetExceeded) || !errors.As(err, &ee) {
				t.Errorf("%s (%v): budget %d: %v; want an *vm.ExecError for the budget", tt.name, mode, tt.extra, err)
			}
		}
	}
}

// Cancel checks that a run stops soon after its RunContext.Context is done:
// at helper calls, callbacks and charged work, also when a helper loops
// for a long time.
func Cancel(t *testing.T, e vm.Engine) {
	const long = `
	lddw %r1, 0x40000000
	lddw %r2, 0   #fn body
	mov %r3, 0
	call 4
	exit
body:
	mov %r0, 0
	exit`
	exe, err := e.Compile(&vm.Program{Instructions: AssembleFunc(t, long), Helpers: vm.Helpers{4: meteredLoop}}, vm.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = exe.Run(&vm.RunContext{Context: ctx})
	if !errors.Is(err, vm.ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%s: %v; want the run canceled at its deadline", e.Name(), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("%s: stopped %v after a 20ms deadline", e.Name(), d)
	}
	// Canceled before it starts: the first helper call stops it, and
	// vm.Run does not start it.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := exe.Run(&vm.RunContext{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Errorf("%s: canceled context: %v", e.Name(), err)
	}
	if _, err := vm.Run(exe, &vm.RunContext{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Errorf("%s: vm.Run with a canceled context: %v", e.Name(), err)
	}
}
