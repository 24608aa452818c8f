package verifier

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// low32Case is an XDP program whose verdict depends on what 32-bit tests
// say about the low half of a register whose 64-bit value is unknown
// (sub32.go). A "bad" path reads an uninitialised register: it is refused
// wherever the analysis finds it reachable.
type low32Case struct {
	name   string
	text   string
	accept bool
}

// low32Program assembles a case: a random number in r0 (bpf_ktime_get_ns),
// the case's text, and the exits it jumps to (out; bad, if it names it).
func low32Program(t *testing.T, c low32Case) []isa.Instruction {
	t.Helper()
	text := "call 5\n" + c.text + "\nout:\nmov %r0, 0\nexit"
	if strings.Contains(c.text, "bad") {
		text += "\nbad:\nsub %r0, %r1\nexit"
	}
	prog, err := isa.Assemble(text)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return prog
}

// low32Cases: Linux 6.12's verifier_bounds_deduction_non_const.c shapes
// (jmp32 against a constant held in a register) and the ways the facts
// may be used, each with a hostile variant whose "bad" path can run.
var low32Cases = []low32Case{
	{"w0 >= 4 is never 3 (kernel's non_const_5)", `
jlt32 %r0, 4, out
mov32 %r2, 3
jeq32 %r0, %r2, bad
`, true},
	{"w0 >= 3 may be 3", `
jlt32 %r0, 3, out
mov32 %r2, 3
jeq32 %r0, %r2, bad
`, false},
	{"4 > w0 is false when w0 >= 4 (kernel's non_const_21)", `
jlt32 %r0, 4, out
mov32 %r2, 4
jgt32 %r2, %r0, bad
`, true},
	{"5 > w0 may hold when w0 >= 4", `
jlt32 %r0, 4, out
mov32 %r2, 5
jgt32 %r2, %r0, bad
`, false},
	{"signed: 4 s> w0 is false when w0 s>= 4 (kernel's non_const_26)", `
jslt32 %r0, 4, out
mov32 %r2, 4
jsgt32 %r2, %r0, bad
`, true},
	{"signed: 4 s> w0 may hold when w0 s>= 3", `
jslt32 %r0, 3, out
mov32 %r2, 4
jsgt32 %r2, %r0, bad
`, false},
	{"w0 s>= 0 is at most 0x7fffffff unsigned", `
jslt32 %r0, 0, out
jgt32 %r0, 0x7fffffff, bad
`, true},
	{"w0 s>= -5 may exceed 0x7fffffff unsigned", `
jslt32 %r0, -5, out
jgt32 %r0, 0x7fffffff, bad
`, false},
	{"w0 <= 0x7ffffff0 is not negative", `
jgt32 %r0, 0x7ffffff0, out
jslt32 %r0, 0, bad
`, true},
	{"w0 >= 4 may be negative", `
jlt32 %r0, 4, out
jslt32 %r0, 0, bad
`, false},
	{"a 32-bit add reads the fact: w0 + 1 <= 4", `
jgt32 %r0, 3, out
add32 %r0, 1
jgt %r0, 4, bad
`, true},
	{"a 64-bit shift drops the fact", `
jgt32 %r0, 3, out
rsh %r0, 1
jeq32 %r0, 1, bad
`, false},
	{"a 32-bit move bounds a stack index", `
stdw [%r10-8], 0
stdw [%r10-16], 0
jgt32 %r0, 1, out
mov32 %r1, %r0
lsh %r1, 3
mov %r2, %r10
add %r2, -16
add %r2, %r1
ldxdw %r0, [%r2+0]
`, true},
	{"a 32-bit move of a wider fact indexes past the stack", `
stdw [%r10-8], 0
stdw [%r10-16], 0
jgt32 %r0, 2, out
mov32 %r1, %r0
lsh %r1, 3
mov %r2, %r10
add %r2, -16
add %r2, %r1
ldxdw %r0, [%r2+0]
`, false},
	{"a fact of one path only is lost at the join", `
mov %r6, %r0
call 7
jeq %r0, 0, join
jgt32 %r6, 3, out
join:
jeq32 %r6, 9, bad
`, false},
	{"a 32-bit fill of a spill shifted left by 32 is 0 (kernel's fill_32bit_after_spill_64bit)", `
lsh %r0, 32
stxdw [%r10-8], %r0
ldxw %r0, [%r10-8]
jne %r0, 0, bad
`, true},
	{"a 32-bit fill of a spill shifted left by 31 may not be 0", `
lsh %r0, 31
stxdw [%r10-8], %r0
ldxw %r0, [%r10-8]
jne %r0, 0, bad
`, false},
	{"a 32-bit fill of a spilled 32-bit number is the number (kernel's ..._preserve_id)", `
and %r0, 65535
stxdw [%r10-8], %r0
ldxw %r3, [%r10-8]
jne %r3, 0, out
jne %r0, 0, bad
`, true},
	{"a 32-bit fill of a spilled 64-bit number is not the number", `
stxdw [%r10-8], %r0
ldxw %r3, [%r10-8]
jne %r3, 0, out
jne %r0, 0, bad
`, false},
	{"a 16-bit fill of a spilled number in a 64 KiB window", `
and %r0, 255
add %r0, 0x10000
stxdw [%r10-8], %r0
ldxh %r3, [%r10-8]
jgt %r3, 255, bad
`, true},
	{"a 16-bit fill of a spilled number in a 64 KiB window may be 255", `
and %r0, 255
add %r0, 0x10000
stxdw [%r10-8], %r0
ldxh %r3, [%r10-8]
jgt %r3, 254, bad
`, false},
	{"a byte in the middle of a spilled 0 is 0 (kernel's partial_stack_load_preserves_zeros)", `
stdw [%r10-8], 0
ldxb %r3, [%r10-3]
jne %r3, 0, bad
`, true},
	{"a byte in the middle of a spilled 0x1234 is not known (nor to Linux)", `
mov %r4, 0x1234
stxdw [%r10-8], %r4
ldxb %r3, [%r10-7]
jne %r3, 0x12, bad
`, false},
	{"a byte in the middle of a spilled unknown number is not known", `
stxdw [%r10-8], %r0
ldxb %r3, [%r10-7]
jne %r3, 0, bad
`, false},
	{"a fact survives a helper call in a callee-saved register", `
mov %r6, %r0
jgt32 %r6, 3, out
call 7
jeq32 %r6, 9, bad
`, true},
}

// TestLow32Facts: bpfhost gives each of low32Cases its verdict (the
// accepted ones were refused before sub32.go kept unsigned facts and
// compared registers by their facts), and the accepted ones run in the
// checked interpreter with the containment oracle, which checks every
// fact against the concrete register at every instruction
// (ktime_get_ns returns numbers near the 32-bit and 64-bit boundaries).
// TestLow32FactsKernel holds the verdicts to Linux's.
func TestLow32Facts(t *testing.T) {
	info := xdpInfo(t)
	for i, c := range low32Cases {
		prog := low32Program(t, c)
		_, err := Verify(prog, Options{Type: info, ABI: linux.ABI(), Maps: fuzzMaps})
		if (err == nil) != c.accept {
			t.Errorf("%s: %v, want accepted %v", c.name, err, c.accept)
			continue
		}
		if !c.accept {
			continue
		}
		h := &harness{t: t, info: info, rng: rand.New(rand.NewPCG(uint64(i), 3))}
		for range 40 {
			if v := h.try(prog, fuzzMaps); v != nil {
				h.fail(v)
				break
			}
		}
		if h.accepted == 0 {
			t.Errorf("%s: the harness did not run it", c.name)
		}
	}
}
