package containment

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// conformanceHelpers are the suite's helpers (conformance.Helpers) as the
// interpreter takes them.
func conformanceHelpers() vm.Helpers {
	hs := vm.Helpers{}
	for id, fn := range conformance.Helpers {
		hs[id] = func(_ *vm.RunContext, r1, r2, r3, r4, r5 uint64) (uint64, error) { return fn(r1, r2, r3, r4, r5) }
	}
	return hs
}

// TestConformance verifies every program of the bpf_conformance suite
// (each test file, assembled by our assembler, and each fixture's
// bytecode) as bpfhost's embedding type, and runs every one the verifier
// accepts in the checked interpreter under the containment check: on its
// given input, where its result must be the expected one, and on random
// inputs. Any state outside the verifier's fails the test with the
// program, the input and the instruction.
func TestConformance(t *testing.T) {
	// What the verifier accepts today, of the suite's 626 programs: fewer
	// fails the test (raise these when the verifier accepts more).
	const (
		conformanceAccepted = 524 // as they are
		conformanceBounded  = 78  // of the others, behind a length check
	)
	dir, err := conformance.Dir()
	if err != nil {
		t.Skipf("conformance suite absent: %v", err)
	}
	cases, fixtures, err := conformance.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	helpers := conformanceHelpers()
	s, bounded := newSuite(t, 1), newSuite(t, 3)
	check := func(p Program, mem []byte, want *uint64) {
		if s.check(p, mem, want) || len(mem) == 0 {
			return
		}
		// The suite's programs read and write their input without
		// comparing its length: behind a check of it, the memory
		// tests are verifiable too.
		p.Name += " (behind a length check)"
		p.Insns = append(lengthCheck(len(mem)), p.Insns...)
		bounded.check(p, mem, want)
	}
	for _, c := range cases {
		prog, err := isa.Assemble(c.Asm)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var want *uint64
		if c.HasResult {
			want = &c.Result
		}
		check(Program{Name: c.Name, Insns: prog, Helpers: helpers}, c.Mem, want)
	}
	for _, f := range fixtures {
		code, err := f.Program()
		if err != nil {
			t.Fatal(err)
		}
		prog, err := isa.Decode(code)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		mem, err := f.Mem()
		if err != nil {
			t.Fatal(err)
		}
		want, err := f.Result()
		if err != nil {
			t.Fatal(err)
		}
		check(Program{Name: f.Name + " (fixture)", Insns: prog, Helpers: helpers}, mem, &want)
	}
	s.report("conformance", conformanceAccepted)
	bounded.report("conformance programs the verifier rejects, behind a check of the input length", conformanceBounded)
}

// lengthCheck returns the instructions that run a program only if its
// input (r2 bytes at r1) holds at least n bytes, and return 0 otherwise.
// Jumps and calls are relative, so the program needs no change behind
// them.
func lengthCheck(n int) []isa.Instruction {
	prog, err := isa.Assemble(fmt.Sprintf("jge r2, %d, +2\nmov r0, 0\nexit", n))
	if err != nil {
		panic(err) // a constant program
	}
	return prog
}

// TestConformanceNegative checks that the verifier accepts none of the
// suite's invalid programs (its negative directory) that decode: the
// bytecode with fields the ISA leaves unused set, and the programs that
// fail at run time. A negative test that expects a result is a valid
// program (a wrong answer for engines to avoid): it is checked like the
// others.
func TestConformanceNegative(t *testing.T) {
	dir, err := conformance.Dir()
	if err != nil {
		t.Skipf("conformance suite absent: %v", err)
	}
	cases, err := conformance.LoadCases(filepath.Join(dir, "negative"))
	if err != nil {
		t.Fatal(err)
	}
	s := newSuite(t, 4)
	invalid := 0
	for _, c := range cases {
		var prog []isa.Instruction
		if c.Raw != nil {
			prog, err = isa.Decode(c.Raw)
		} else {
			prog, err = isa.Assemble(c.Asm)
		}
		if err != nil || len(prog) == 0 {
			continue // the assembler or the decoder refuses it already
		}
		p := Program{Name: c.Name, Insns: prog, Helpers: conformanceHelpers()}
		if c.HasResult {
			s.check(p, c.Mem, nil) // the result is the wrong one on purpose
			continue
		}
		invalid++
		if ch, err := Verify(p); err == nil {
			ch.Close()
			t.Errorf("%s: the verifier accepts an invalid program (the suite expects %q)\n%s", c.Name, c.Error, isa.Disassemble(prog))
		}
	}
	t.Logf("%d invalid programs that decode, all rejected", invalid)
	if invalid == 0 {
		t.Error("no negative program decodes: the test checks nothing")
	}
}
