package containment

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
	"github.com/bpfhost/bpfhost/vm"
)

// TestRunReports checks that Run reports a state outside the verifier's
// (a helper that breaks its prototype: bpf_get_prandom_u32 returning more
// than 32 bits) with the program, the input and the instruction, and a
// failing helper as a fault; and that the honest helper is contained.
func TestRunReports(t *testing.T) {
	prog, err := isa.Assemble(`
		call 7
		mov r1, r0
		mov r0, 0
		exit`)
	if err != nil {
		t.Fatal(err)
	}
	random := func(r0 uint64, err error) vm.Helpers {
		return vm.Helpers{int32(linux.FnGetPrandomU32): func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
			return r0, err
		}}
	}
	run := func(h vm.Helpers) (Run, error) {
		c, err := Verify(Program{Name: "prandom", Insns: prog, Helpers: h})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.Run([]byte{0xab, 0xcd}, 0)
	}
	if r, err := run(random(0xffffffff, nil)); err != nil || r.Steps != 4 {
		t.Fatalf("honest helper: %d steps, %v", r.Steps, err)
	}
	_, err = run(random(1<<40, nil))
	var v *verifier.Violation
	if !errors.As(err, &v) || v.PC != 1 || !strings.Contains(err.Error(), "program prandom, input (2 bytes) abcd") || !strings.Contains(err.Error(), "r0=0x10000000000: scalar outside") {
		t.Fatalf("got %v, want a violation at insn 1 naming the program and input", err)
	}
	if _, err = run(random(0, errors.New("broken"))); !errors.Is(err, ErrFault) {
		t.Fatalf("got %v, want ErrFault", err)
	}
}
