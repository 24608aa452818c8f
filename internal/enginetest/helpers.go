package enginetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// Helpers checks helper calls and callx in both memory modes: arguments,
// registers across calls, the call depth helpers see, unknown targets and
// failing helpers.
func Helpers(t *testing.T, e vm.Engine) {
	sum := func(_ *vm.RunContext, a, b, c, d, e uint64) (uint64, error) { return a + b + c + d + e, nil }
	failing := func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
		return 0, errors.New("boom")
	}
	depth := func(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) { return uint64(rc.Depth), nil }
	helpers := vm.Helpers{1: sum, 2: failing, 3: depth}
	tests := []struct {
		name, src string
		want      uint64
	}{
		{"call 1", "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 1\nexit", 15},
		// r6-r9 survive a helper call. So do r1-r5 in both engines: the
		// verifier lets no program read them, so this pins down agreement.
		{"registers across calls", "mov %r1, 1\nmov %r6, 6\nmov %r9, 9\ncall 1\nadd %r0, %r6\nadd %r0, %r9\nadd %r0, %r1\nexit", 1 + 6 + 9 + 1},
		{"callx", "mov %r1, 7\nmov %r2, 1\ncall %r2\nexit", 8},
		{"helper depth", "call local f\nexit\nf:\ncall local g\nexit\ng:\ncall 3\nexit", 2},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			got, err := compile(t, e, tt.src, mode, helpers).Run(&vm.RunContext{})
			if err != nil || got != tt.want {
				t.Errorf("%s (%v): r0 = %d, %v; want %d", tt.name, mode, got, err, tt.want)
			}
		}
		for _, src := range []string{"mov %r2, 99\ncall %r2\nexit", "lddw %r2, 0x100000001\ncall %r2\nexit"} {
			_, err := compile(t, e, src, mode, helpers).Run(&vm.RunContext{})
			if !errors.Is(err, vm.ErrUnknownHelper) {
				t.Errorf("callx unknown (%v): %v, want ErrUnknownHelper\n%s", mode, err, src)
			}
		}
		kfuncs(t, e, mode, helpers)
		rc := &vm.RunContext{}
		_, err := compile(t, e, "mov %r0, 0\ncall 2\nexit", mode, helpers).Run(rc)
		var ee *vm.ExecError
		if !errors.As(err, &ee) || ee.PC != 1 || !strings.Contains(err.Error(), "boom") || rc.Executed != 2 {
			t.Errorf("failing helper (%v): %v, executed %d; want boom at instruction 1, executed 2", mode, err, rc.Executed)
		}
	}
}

// CompileErrors checks what Compile refuses: calls of helpers the table
// lacks, kfunc calls, map references left unresolved, invalid programs.
func CompileErrors(t *testing.T, e vm.Engine) {
	sum := func(_ *vm.RunContext, a, _, _, _, _ uint64) (uint64, error) { return a, nil }
	call3, err := isa.Assemble("call 3\nexit")
	if err != nil {
		t.Fatal(err)
	}
	mapRef := isa.LoadImm64(isa.R1, isa.PseudoMapFD, 3)
	tests := []struct {
		name string
		prog vm.Program
		want error
		text string // the error must also contain it
	}{
		{"unknown helper", vm.Program{Instructions: call3, Helpers: vm.Helpers{1: sum}}, vm.ErrUnknownHelper, ""},
		{"kfunc", vm.Program{Instructions: []isa.Instruction{{Opcode: isa.OpCall, Src: isa.CallKfunc, Imm: 1234}, {Opcode: isa.OpExit}}, Kfuncs: vm.Helpers{1: sum}}, vm.ErrUnknownKfunc, "1234"},
		{"kfunc number of a helper", vm.Program{Instructions: []isa.Instruction{{Opcode: isa.OpCall, Src: isa.CallKfunc, Imm: 1}, {Opcode: isa.OpExit}}, Helpers: vm.Helpers{1: sum}}, vm.ErrUnknownKfunc, "1"},
		{"unresolved map lddw", vm.Program{Instructions: append(mapRef[:], isa.Instruction{Opcode: isa.OpExit})}, vm.ErrUnsupported, ""},
		{"invalid program", vm.Program{Instructions: []isa.Instruction{{Opcode: 0xff}}}, isa.ErrInvalidProgram, ""},
	}
	for _, tt := range tests {
		for _, mode := range modes {
			exe, err := e.Compile(&tt.prog, vm.CompileOptions{Mode: mode})
			if err == nil {
				exe.Close()
			}
			if !errors.Is(err, tt.want) || !strings.Contains(errString(err), tt.text) {
				t.Errorf("%s (%v): err = %v, want %v naming %q", tt.name, mode, err, tt.want, tt.text)
			}
		}
	}
}

// errString is err's text, or "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// kfuncs checks kfunc calls (vm.Program.Kfuncs): a kfunc and a helper of
// the same number are different functions, each gets its arguments, and a
// kfunc call counts as one instruction.
func kfuncs(t *testing.T, e vm.Engine, mode vm.Mode, helpers vm.Helpers) {
	t.Helper()
	times10 := func(_ *vm.RunContext, a, _, _, _, _ uint64) (uint64, error) { return a * 10, nil }
	head, err := isa.Assemble("mov %r1, 5\nmov %r2, 7")
	if err != nil {
		t.Fatal(err)
	}
	tail, err := isa.Assemble("mov %r6, %r0\nmov %r1, 1\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 1\nadd %r0, %r6\nexit")
	if err != nil {
		t.Fatal(err)
	}
	prog := append(append(head, isa.Instruction{Opcode: isa.OpCall, Src: isa.CallKfunc, Imm: 1}), tail...)
	exe, err := e.Compile(&vm.Program{Instructions: prog, Helpers: helpers, Kfuncs: vm.Helpers{1: times10}}, vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatalf("kfunc (%v): %v", mode, err)
	}
	defer exe.Close()
	rc := &vm.RunContext{}
	got, err := exe.Run(rc)
	if err != nil || got != 51 || rc.Executed != uint64(len(prog)) {
		t.Errorf("kfunc (%v): r0 = %d, %v, executed %d; want 50 from kfunc 1 plus 1 from helper 1, %d executed", mode, got, err, rc.Executed, len(prog))
	}
	// A loop of kfunc calls stops at the budget: each call counts.
	loop := []isa.Instruction{{Opcode: isa.OpCall, Src: isa.CallKfunc, Imm: 1}, {Opcode: isa.OpJA, Offset: -2}}
	exe2, err := e.Compile(&vm.Program{Instructions: loop, Kfuncs: vm.Helpers{1: times10}}, vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatalf("kfunc loop (%v): %v", mode, err)
	}
	defer exe2.Close()
	rc = &vm.RunContext{Budget: 1000}
	if _, err := exe2.Run(rc); !errors.Is(err, vm.ErrBudgetExceeded) || rc.Executed > 1000+uint64(len(loop)) {
		t.Errorf("kfunc loop (%v): %v after %d instructions, want ErrBudgetExceeded after 1000 (and at most the loop's block more)", mode, err, rc.Executed)
	}
}
