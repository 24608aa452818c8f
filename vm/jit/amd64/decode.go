package amd64

import (
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// decode disassembles the instruction at code[off:] for listings with
// golang.org/x/arch, in Intel syntax (x86asm's spelling: like objdump -M
// intel, but movabs is mov and immediates are signed). It returns the
// instruction's length, its text, with jump targets as code offsets, and
// the code offset it refers to (a jump target or a rip-relative address),
// -1 if none. Bytes that do not decode come out as "(bad)", one at a time;
// tests make sure generated code never does.
func decode(code []byte, off int) (n int, text string, ref int) {
	inst, err := x86asm.Decode(code[off:], 64)
	if err != nil || inst.Len == 0 || inst.Op == 0 {
		return 1, "(bad)", -1
	}
	ref = -1
	for i, a := range inst.Args {
		switch a := a.(type) {
		case x86asm.Rel:
			ref = off + inst.Len + int(a)
		case x86asm.Mem:
			// x86asm leaves lea's 32-bit displacement unsigned; the
			// hardware sign-extends it.
			if a.Disp > 1<<31-1 && a.Disp < 1<<32 {
				a.Disp = int64(int32(a.Disp))
				inst.Args[i] = a
			}
			if a.Base == x86asm.RIP {
				ref = off + inst.Len + int(a.Disp)
			}
		}
	}
	text = x86asm.IntelSyntax(inst, uint64(off), nil)
	// An operand without a size (lea's) still gets "ptr".
	text = strings.Replace(text, ", ptr [", ", [", 1)
	// Conditions by their usual names (jae, ja, je, cmovne), as objdump
	// and the Go assembler spell them, not Intel's alternatives (jnb,
	// jnbe, jz, cmovnz).
	if op := inst.Op.String(); strings.HasPrefix(op, "J") || strings.HasPrefix(op, "CMOV") || strings.HasPrefix(op, "SET") {
		if mnemonic, rest, ok := strings.Cut(text, " "); ok {
			text = strings.ToLower(op) + " " + rest
		} else {
			text = mnemonic
		}
	}
	return inst.Len, text, ref
}
