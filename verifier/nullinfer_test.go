package verifier

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// nullInferLookups looks up two keys of map 0 (fuzzMaps' arr, 4
// elements), each 0 to 7 by bpf_get_prandom_u32: r6 and r7 are the
// results, each NULL or an element (the same one, in the harness, where
// both keys are in the array).
const nullInferLookups = `
call 7
and %r0, 7
stxw [%r10-4], %r0
call 7
and %r0, 7
stxw [%r10-8], %r0
mov %r2, %r10
add %r2, -4
lddw %r1, 0
call 1
mov %r6, %r0
mov %r2, %r10
add %r2, -8
lddw %r1, 0
call 1
mov %r7, %r0
`

// nullInferCases: a maybe-NULL pointer equal to one known not to be NULL
// is not NULL (Linux's "jne/jeq infer not null",
// verifier_jeq_infer_not_null.c), on the equal branch only, and only the
// register compared (Linux does not mark its copies).
var nullInferCases = []callExitCase{
	{"equal to a checked pointer (jne false branch)", nullInferLookups + `
jeq %r6, 0, out
jne %r6, %r7, out
ldxb %r0, [%r7+0]
out:
mov %r0, 2
exit`, true},
	{"equal to a checked pointer (jeq true branch)", nullInferLookups + `
jeq %r6, 0, out
jeq %r7, %r6, use
ja out
use:
ldxb %r0, [%r7+0]
out:
mov %r0, 2
exit`, true},
	{"a copy of the pointer, reloaded, where the register equals a checked one", nullInferLookups + `
stxdw [%r10-16], %r7
jeq %r6, 0, out
jne %r6, %r7, out
ldxdw %r1, [%r10-16]
ldxb %r0, [%r1+0]
out:
mov %r0, 2
exit`, false},
	{"different from a checked pointer (jne true branch)", nullInferLookups + `
jeq %r6, 0, out
jeq %r6, %r7, out
ldxb %r0, [%r7+0]
out:
mov %r0, 2
exit`, false},
	{"equal to an unchecked pointer", nullInferLookups + `
jne %r6, %r7, out
ldxb %r0, [%r7+0]
out:
mov %r0, 2
exit`, false},
}

// TestNullInference: bpfhost gives each of nullInferCases its verdict (the
// accepted ones were refused before branch.go inferred it), and the
// accepted ones run in the checked interpreter with the containment
// oracle. TestNullInferenceKernel holds the verdicts to Linux's.
func TestNullInference(t *testing.T) {
	info := xdpInfo(t)
	for i, c := range nullInferCases {
		prog := assembleMaps(t, c.main)
		_, err := Verify(prog, Options{Type: info, ABI: linux.ABI(), Maps: fuzzMaps})
		if (err == nil) != c.accept {
			t.Errorf("%s: %v, want accepted %v", c.name, err, c.accept)
			continue
		}
		if !c.accept {
			continue
		}
		h := &harness{t: t, info: info, rng: rand.New(rand.NewPCG(uint64(i), 6))}
		for range 30 {
			if v := h.try(prog, fuzzMaps); v != nil {
				h.fail(v)
				break
			}
		}
	}
}

// offsetPairPrefix looks up element 0 of map 0 (fuzzMaps' arr: 16-byte
// values; never NULL at a key in the array) into r0 and a random number
// into r6.
const offsetPairPrefix = `
call 7
mov %r6, %r0
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0
call 1
`

// offsetPair is a program that sets r1 to base and r2 to 16, or, where
// r6 (a random number) is not 0, r1 to base + 8 and r2 to size, and passes
// them to bpf_csum_diff (28), which reads r2 bytes at r1; prefix sets r6
// and what base needs.
func offsetPair(prefix, base string, size int) string {
	return prefix + base + fmt.Sprintf(`
mov %%r2, 16
jeq %%r6, 0, go
add %%r1, 8
mov %%r2, %d
go:
mov %%r3, 0
mov %%r4, 0
mov %%r5, 0
call 28
mov %%r0, 2
exit`, size)
}

// stackPairPrefix zeroes r10-16..r10-1 and puts a random number in r6.
const stackPairPrefix = `
call 7
mov %r6, %r0
stdw [%r10-8], 0
stdw [%r10-16], 0
`

// offsetPairCases: a pointer and a size chosen together on two paths
// (BPF_SEQ_PRINTF with one of two formats, bpf_iter_bpf_map.c) reach one
// helper call: the paths stay apart, as in Linux, since joining two
// constant offsets loses them.
var offsetPairCases = []callExitCase{
	{"map value offset 0 with 16 bytes, or 8 with 8", offsetPair(offsetPairPrefix, "mov %r1, %r0", 8), true},
	{"map value offset 0 with 16 bytes, or 8 with 16", offsetPair(offsetPairPrefix, "mov %r1, %r0", 16), false},
	{"stack offset -16 with 16 bytes, or -8 with 8", offsetPair(stackPairPrefix, "mov %r1, %r10\nadd %r1, -16", 8), true},
	{"stack offset -16 with 16 bytes, or -8 with 12", offsetPair(stackPairPrefix, "mov %r1, %r10\nadd %r1, -16", 12), false},
}

// TestOffsetPairs: bpfhost gives each of offsetPairCases its verdict; the
// accepted ones were refused before paths.go counted two constant offsets
// as a loss ("read of 16 bytes at offset [0, 8]"). The partition only
// chooses which paths a state stands for, each sound, so the accepted
// ones need no containment run beyond the fuzzers'.
// TestOffsetPairsKernel holds the verdicts to Linux's.
func TestOffsetPairs(t *testing.T) {
	for _, c := range offsetPairCases {
		_, err := Verify(assembleMaps(t, c.main), Options{Type: xdpInfo(t), ABI: linux.ABI(), Maps: fuzzMaps})
		if (err == nil) != c.accept {
			t.Errorf("%s: %v, want accepted %v", c.name, err, c.accept)
		}
	}
}
