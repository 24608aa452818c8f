package isa_test

import (
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
)

func suite(t *testing.T) string {
	t.Helper()
	dir, err := conformance.Dir()
	if err != nil {
		t.Skipf("conformance suite absent: %v", err)
	}
	return dir
}

// TestAssembleMatchesFixtures assembles every test of the suite and compares
// the bytecode with the suite's own fixtures, byte for byte.
func TestAssembleMatchesFixtures(t *testing.T) {
	dir := suite(t)
	cases, err := conformance.LoadCases(filepath.Join(dir, "tests"))
	if err != nil {
		t.Fatal(err)
	}
	fixtures, err := conformance.LoadFixtures(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, f := range fixtures {
		want[f.Name] = f.ProgramHex
	}
	if len(cases) != 313 || len(fixtures) != 313 {
		t.Errorf("suite has %d tests and %d fixtures, want 313 each", len(cases), len(fixtures))
	}
	for _, c := range cases {
		prog, err := isa.Assemble(c.Asm)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if got := hex.EncodeToString(isa.Encode(prog)); got != want[c.Name] {
			t.Errorf("%s: assembled\n%s\nwant\n%s", c.Name, got, want[c.Name])
			continue
		}
		if c.Raw != nil && !strings.EqualFold(hex.EncodeToString(c.Raw), want[c.Name]) {
			t.Errorf("%s: raw section differs from the assembly", c.Name)
		}
		if err := isa.Validate(prog); err != nil {
			t.Errorf("%s: valid program rejected: %v", c.Name, err)
		}
		// The disassembly assembles back to the same program.
		again, err := isa.Assemble(isa.Disassemble(prog))
		if err != nil || hex.EncodeToString(isa.Encode(again)) != want[c.Name] {
			t.Errorf("%s: disassembly does not round-trip (%v):\n%s", c.Name, err, isa.Disassemble(prog))
		}
	}
}

// TestNegative checks that every unused-field case of the suite is rejected
// by Validate and every malformed assembly case by Assemble.
func TestNegative(t *testing.T) {
	dir := suite(t)
	cases, err := conformance.LoadCases(filepath.Join(dir, "negative"))
	if err != nil {
		t.Fatal(err)
	}
	unused := 0
	for _, c := range cases {
		switch {
		case strings.HasPrefix(c.Name, "unused-"):
			unused++
			prog, err := isa.Decode(c.Raw)
			if err != nil {
				t.Errorf("%s: %v", c.Name, err)
				continue
			}
			err = isa.Validate(prog)
			if err == nil {
				t.Errorf("%s: accepted", c.Name)
				continue
			}
			// The name says which field: unused-add_imm-offset.data -> offset.
			field := c.Name[strings.LastIndexByte(c.Name, '-')+1 : len(c.Name)-len(".data")]
			if ve, ok := err.(*isa.ValidationError); !ok || ve.Field != field || ve.Index != 0 {
				t.Errorf("%s: error %q does not name field %q of instruction 0", c.Name, err, field)
			}
		case strings.HasPrefix(c.Name, "invalid_") && c.Name != "invalid_unknown_directive.data":
			if _, err := isa.Assemble(c.Asm); err == nil {
				t.Errorf("%s: assembled without error", c.Name)
			}
		}
	}
	if unused != 45 {
		t.Errorf("found %d unused-field cases, want 45", unused)
	}
}

// TestAssembleErrors holds inputs that once crashed the assembler.
func TestAssembleErrors(t *testing.T) {
	for _, src := range []string{"lock ,%r1", "lock", "lock fetch", "lock fetch add32 [%r1], ", "jeq %r1, 1,", ".raw 00", "lddw %r0, 0x1ffffffffffffffff"} {
		if _, err := isa.Assemble(src); err == nil {
			t.Errorf("%q assembled", src)
		}
	}
}
