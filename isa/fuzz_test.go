package isa_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/bpfhost/bpfhost/internal/conformance"
	"github.com/bpfhost/bpfhost/isa"
)

func addSuiteSeeds(f *testing.F, add func(c conformance.Case)) {
	dir, err := conformance.Dir()
	if err != nil {
		return // the built-in seeds below still run
	}
	for _, sub := range []string{"tests", "negative"} {
		cases, err := conformance.LoadCases(filepath.Join(dir, sub))
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range cases {
			add(c)
		}
	}
}

// FuzzDecodeValidate feeds arbitrary bytes to Decode and Validate. Neither
// may panic, and every program Validate accepts must survive a round trip
// through Disassemble and Assemble.
func FuzzDecodeValidate(f *testing.F) {
	f.Add([]byte{0x95, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x18, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0})
	addSuiteSeeds(f, func(c conformance.Case) {
		if c.Raw != nil {
			f.Add(c.Raw)
		} else if p, err := isa.Assemble(c.Asm); err == nil {
			f.Add(isa.Encode(p))
		}
	})
	f.Fuzz(func(t *testing.T, code []byte) {
		prog, err := isa.Decode(code)
		if err != nil {
			return
		}
		if !bytes.Equal(isa.Encode(prog), code) {
			t.Fatalf("encode(decode(x)) != x")
		}
		if err := isa.Validate(prog); err != nil {
			return
		}
		text := isa.Disassemble(prog)
		again, err := isa.Assemble(text)
		if err != nil {
			t.Fatalf("disassembly does not assemble: %v\n%s", err, text)
		}
		if !bytes.Equal(isa.Encode(again), code) {
			t.Fatalf("round trip changed the program:\n%s", text)
		}
	})
}

// FuzzAssemble feeds arbitrary text to the assembler: errors are fine,
// panics are not, and what it produces encodes and decodes consistently.
func FuzzAssemble(f *testing.F) {
	f.Add("mov %r0, 1\nexit")
	f.Add("lock fetch add [%r10-8], %r1")
	f.Add("l:\nja l\njeq %r1, 0x10000, l")
	addSuiteSeeds(f, func(c conformance.Case) { f.Add(c.Asm) })
	f.Fuzz(func(t *testing.T, src string) {
		prog, err := isa.Assemble(src)
		if err != nil {
			return
		}
		back, err := isa.Decode(isa.Encode(prog))
		if err != nil {
			t.Fatal(err)
		}
		for i := range prog {
			if prog[i].Dst <= 15 && prog[i].Src <= 15 && back[i] != prog[i] {
				t.Fatalf("slot %d: %+v decodes as %+v", i, prog[i], back[i])
			}
		}
		_ = isa.Validate(prog)
	})
}
