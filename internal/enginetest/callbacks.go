package enginetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// loopHelper is a bpf_loop: it calls the callback fn(i, ctx) n times, until
// one returns non-zero, and returns the number of calls.
func loopHelper(rc *vm.RunContext, n, fn, ctx, _, _ uint64) (uint64, error) {
	for i := uint64(0); i < n; i++ {
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

// AssembleFunc assembles src and points every "lddw %rN, 0" that carries the
// comment "#fn LABEL" at the label, as a function address (isa.PseudoFunc):
// the assembler has no syntax for it. It fails t on a bad program or label.
func AssembleFunc(t testing.TB, src string) []isa.Instruction {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatalf("assemble: %v\n%s", err, src)
	}
	// Labels: "name:" lines; slots are counted as the assembler does.
	labels := map[string]int{}
	var fixes []struct {
		slot  int
		label string
	}
	slot := 0
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		code, comment, _ := strings.Cut(line, "#")
		code = strings.TrimSpace(code)
		if name, ok := strings.CutSuffix(code, ":"); ok {
			labels[name] = slot
			continue
		}
		if code == "" {
			continue
		}
		if l, ok := strings.CutPrefix(strings.TrimSpace(comment), "fn "); ok {
			fixes = append(fixes, struct {
				slot  int
				label string
			}{slot, strings.TrimSpace(l)})
		}
		slot++
		if strings.HasPrefix(code, "lddw") {
			slot++
		}
	}
	for _, f := range fixes {
		target, ok := labels[f.label]
		if !ok || !prog[f.slot].IsLoadImm64() {
			t.Fatalf("bad #fn %s at slot %d", f.label, f.slot)
		}
		prog[f.slot].Src = isa.PseudoFunc
		prog[f.slot].Imm = int32(target - f.slot - 1)
	}
	return prog
}

// errAny in a table wants a run to fail with any *vm.ExecError.
var errAny = errors.New("any error")

// callbacks call helper 1 (loopHelper) with functions of the program;
// helper 2 returns the call depth.
var callbacks = []struct {
	name, src string
	budget    uint64
	want      uint64
	err       error // errAny: any *vm.ExecError
}{
	{"sum of indexes", `
	mov %r1, 10
	lddw %r2, 0   #fn body
	mov %r3, %r10
	add %r3, -8
	stdw [%r10-8], 0
	call 1
	ldxdw %r0, [%r10-8]
	exit
body:
	ldxdw %r3, [%r2]
	add %r3, %r1
	stxdw [%r2], %r3
	mov %r0, 0
	exit`, 0, 45, nil},
	{"early stop and depth", `
	mov %r1, 100
	lddw %r2, 0   #fn body
	call 1
	exit
body:
	mov %r6, %r1
	call 2
	jeq %r6, 6, +1
	mov %r0, 0
	exit`, 0, 7, nil},
	{"callback with local calls and its own stack", `
	mov %r6, 7
	stdw [%r10-8], 5
	mov %r1, 4
	lddw %r2, 0   #fn body
	call 1
	ldxdw %r1, [%r10-8]
	add %r0, %r1
	add %r0, %r6
	exit
body:
	stdw [%r10-8], 99
	mov %r6, 1
	call local f
	mov %r0, 0
	exit
f:
	mov %r6, 2
	ldxdw %r0, [%r10+504]
	exit`, 0, 16, nil},
	{"nested callbacks", `
	mov %r1, 3
	lddw %r2, 0   #fn outer
	call 1
	exit
outer:
	mov %r1, 2
	lddw %r2, 0   #fn inner
	call 1
	mov %r0, 0
	exit
inner:
	call 2
	mov %r0, 0
	exit`, 0, 3, nil},
	{"budget runs out in a callback", `
	mov %r1, 1000
	lddw %r2, 0   #fn body
	call 1
	exit
body:
	mov %r0, 0
	ja +0
	exit`, 100, 0, vm.ErrBudgetExceeded},
	{"callback at the call-depth limit", `
	call local f1
	exit
f1:
	call local f2
	exit
f2:
	call local f3
	exit
f3:
	call local f4
	exit
f4:
	call local f5
	exit
f5:
	call local f6
	exit
f6:
	call local f7
	exit
f7:
	mov %r1, 1
	lddw %r2, 0   #fn body
	call 1
	exit
body:
	mov %r1, 1
	lddw %r2, 0   #fn body2
	call 1
	exit
body2:
	mov %r0, 0
	exit`, 0, 0, vm.ErrCallDepth},
	{"not a function", `
	mov %r1, 1
	mov %r2, 3    # the second slot of the lddw
	lddw %r3, 0   #fn body
	call 1
	exit
body:
	mov %r0, 0
	exit`, 0, 0, errAny},
	{"far past the program", `
	mov %r1, 1
	lddw %r2, 0x100000000
	lddw %r3, 0   #fn body
	call 1
	exit
body:
	mov %r0, 0
	exit`, 0, 0, errAny},
}

// Callbacks checks functions passed to helpers (bpf_loop), in both memory
// modes: results, each callback's own frame and depth, nesting, the shared
// budget, the depth limit and bad function addresses; and that rc.Call is
// cleared when the run ends.
func Callbacks(t *testing.T, e vm.Engine) {
	depth := func(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) { return uint64(rc.Depth), nil }
	helpers := vm.Helpers{1: loopHelper, 2: depth}
	for _, tt := range callbacks {
		prog := AssembleFunc(t, tt.src)
		for _, mode := range modes {
			exe, err := e.Compile(&vm.Program{Instructions: prog, Helpers: helpers}, vm.CompileOptions{Mode: mode})
			if err != nil {
				t.Fatalf("%s: %s: %v", tt.name, e.Name(), err)
			}
			rc := &vm.RunContext{Budget: tt.budget}
			got, err := exe.Run(rc)
			exe.Close()
			var ee *vm.ExecError
			switch {
			case tt.err == nil && (err != nil || got != tt.want):
				t.Errorf("%s (%v): r0 = %d, %v; want %d", tt.name, mode, got, err, tt.want)
			case tt.err == errAny && !errors.As(err, &ee):
				t.Errorf("%s (%v): err = %v, want an *vm.ExecError", tt.name, mode, err)
			case tt.err != nil && tt.err != errAny && !errors.Is(err, tt.err):
				t.Errorf("%s (%v): err = %v, want %v", tt.name, mode, err, tt.err)
			}
			if rc.Call != nil {
				t.Errorf("%s (%v): rc.Call left set", tt.name, mode)
			}
		}
	}
}
