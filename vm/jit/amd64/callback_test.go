package amd64_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
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

// assembleFunc assembles src and points every "lddw %rN, 0" whose next line
// carries the comment "#fn LABEL" at the label, as a function address
// (isa.PseudoFunc): the assembler has no syntax for it.
func assembleFunc(t *testing.T, src string) []isa.Instruction {
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

// TestCallbacks checks functions passed to helpers against the
// interpreter: results, counts, depths, budgets and errors.
func TestCallbacks(t *testing.T) {
	depth := func(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) { return uint64(rc.Depth), nil }
	helpers := vm.Helpers{1: loopHelper, 2: depth}
	tests := []struct {
		name, src string
		budget    uint64
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
	exit`, 0},
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
	exit`, 0},
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
	exit`, 0},
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
	exit`, 0},
		{"budget runs out in a callback", `
	mov %r1, 1000
	lddw %r2, 0   #fn body
	call 1
	exit
body:
	mov %r0, 0
	ja +0
	exit`, 100},
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
	exit`, 0},
		{"not a function", `
	mov %r1, 1
	mov %r2, 3    # the second slot of the lddw
	lddw %r3, 0   #fn body
	call 1
	exit
body:
	mov %r0, 0
	exit`, 0},
		{"far past the program", `
	mov %r1, 1
	lddw %r2, 0x100000000
	lddw %r3, 0   #fn body
	call 1
	exit
body:
	mov %r0, 0
	exit`, 0},
	}
	for _, tt := range tests {
		prog := assembleFunc(t, tt.src)
		for _, mode := range modes {
			var got [2]outcome
			var stacks [2][]byte
			rc := &vm.RunContext{Budget: tt.budget}
			for i, engine := range []vm.Engine{interp.New(), amd64.New()} {
				exe, err := engine.Compile(&vm.Program{Instructions: prog, Helpers: helpers}, vm.CompileOptions{Mode: mode})
				if err != nil {
					t.Fatalf("%s: %s: %v", tt.name, engine.Name(), err)
				}
				clear(rc.Stack().Bytes())
				r0, err := exe.Run(rc)
				exe.Close()
				got[i] = outcome{r0: r0, executed: rc.Executed, depth: rc.Depth}
				if err != nil {
					got[i].err = err.Error()
				}
				stacks[i] = append([]byte(nil), rc.Stack().Bytes()...)
				if rc.Call != nil {
					t.Errorf("%s (%s): rc.Call left set", tt.name, engine.Name())
				}
			}
			if got[0] != got[1] || string(stacks[0]) != string(stacks[1]) {
				t.Errorf("%s (%v):\ninterp %v\njit    %v", tt.name, mode, got[0], got[1])
			}
		}
	}
}

// TestTailCalls checks that a helper naming a program ends the current one
// and vm.Run continues with it, sharing the budget, with JIT programs and
// interpreted ones mixed in one chain.
func TestTailCalls(t *testing.T) {
	var targets []vm.Executable
	tail := func(rc *vm.RunContext, ctx, _, _, _, _ uint64) (uint64, error) {
		if rc.TailCalls >= vm.MaxTailCalls {
			return ^uint64(0), nil // -1: fall through, as Linux
		}
		rc.TailCall, rc.Args[0] = targets[rc.TailCalls%len(targets)], ctx
		rc.TailCalls++
		return 0, nil
	}
	helpers := vm.Helpers{12: tail}
	const src = "ldxdw %r2, [%r1]\nadd %r2, 1\nstxdw [%r1], %r2\nmov %r6, %r1\ncall 12\nldxdw %r0, [%r6]\nexit"
	counter := heapBytes(8)
	for _, mode := range modes {
		jit := compile(t, src, mode, helpers)
		ref := compileWith(t, interp.New(), src, mode, helpers)
		for _, chain := range [][]vm.Executable{{jit}, {jit, ref}} {
			targets = chain
			clear(counter)
			rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("counter", counter, true)}, Value: counter}
			rc.Args[0] = uint64(rc.Regions[0].Start)
			got, err := vm.Run(jit, rc)
			if err != nil || got != vm.MaxTailCalls+1 {
				t.Errorf("%v, %d programs: r0 = %d, %v; want %d", mode, len(chain), got, err, vm.MaxTailCalls+1)
			}
			if want := uint64(7*(vm.MaxTailCalls+1) - 2*vm.MaxTailCalls); rc.Executed != want {
				t.Errorf("%v, %d programs: executed %d, want %d", mode, len(chain), rc.Executed, want)
			}
			clear(counter)
			rc.Budget = 50
			if _, err := vm.Run(jit, rc); !errors.Is(err, vm.ErrBudgetExceeded) {
				t.Errorf("%v: budget 50: %v", mode, err)
			}
		}
	}
}

// TestCheckedFrames checks that checked runs clear a frame when a call
// enters it, as the interpreter does, and trusted runs leave it.
func TestCheckedFrames(t *testing.T) {
	const src = `
	call local f
	mov %r6, %r0
	call local f
	lsh %r6, 8
	or %r0, %r6
	exit
f:
	ldxdw %r0, [%r10-8]
	stdw [%r10-8], 7
	exit`
	for _, mode := range modes {
		got, err := both(t, src, mode, nil, func() *vm.RunContext { return &vm.RunContext{} })
		want := uint64(0)
		if mode == vm.Trusted {
			want = 7
		}
		if err != nil || got.r0 != want {
			t.Errorf("%v: %v %v; want r0 %#x", mode, got, err, want)
		}
	}
}
