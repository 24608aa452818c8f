package verifier

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// offsetCase is a kprobe program that uses a number derived from pointers
// or a helper's result as an offset into its stack frame, with the
// verdict Linux gives it (TestOffsetCasesKernel).
type offsetCase struct {
	name, text string
	accept     bool
	// beyondLinux: bpfhost accepts what Linux refuses, for this reason.
	beyondLinux string
}

// readStr16 reads a string of at most 16 bytes into r10-16 with
// bpf_probe_read_kernel_str (115); r0 is its result.
const readStr16 = `
mov %r1, %r10
add %r1, -16
mov %r2, 16
mov %r3, 0
call 115
mov %r1, %r10
add %r1, -16
`

// signExtended reads a string as readStr16 does and indexes the buffer
// with the result shifted left by 32 and arithmetically right by shift
// (32: clang's sign extension of an int), checked not negative.
func signExtended(shift int) string {
	return readStr16 + fmt.Sprintf(`
mov %%r8, %%r0
lsh %%r8, 32
arsh %%r8, %d
mov %%r3, 0
jsgt %%r3, %%r8, out
add %%r1, %%r8
stb [%%r1-1], 0
out:
mov %%r0, 0
exit`, shift)
}

// linuxPtrDiff is why Linux refuses a use of the difference of two
// pointers into one object that bpfhost accepts.
const linuxPtrDiff = "Linux makes the difference of two pointers an unknown number (for privileged programs only); bpfhost knows it is the difference of their offsets, which says nothing of where the object lies"

// offsetCases: a string reader's result is at most its size, or a
// negative errno (retrange.go); the difference of two pointers into one
// object is the difference of their offsets (pointerDiff). Each accepted
// case has a variant one byte or one check away that must be refused.
var offsetCases = []offsetCase{
	{"the bytes read, checked not negative, index the buffer (test_varlen.c)", readStr16 + `
jslt %r0, 0, out
add %r1, %r0
stb [%r1-1], 0
out:
mov %r0, 0
exit`, true, ""},
	{"one past the bytes read may be past the buffer", readStr16 + `
jslt %r0, 0, out
add %r1, %r0
stb [%r1+0], 0
out:
mov %r0, 0
exit`, false, ""},
	{"an unchecked result may be an errno down to -4095", readStr16 + `
add %r1, %r0
stb [%r1-1], 0
mov %r0, 0
exit`, false, ""},
	{"the bytes read, sign-extended from 32 bits, checked, index the buffer (verifier_bpf_get_stack.c)", signExtended(32), true, ""},
	{"the bytes read, shifted back by one bit less, overrun the buffer", signExtended(31), false, ""},
	{"the result of a read with an unknown size is unknown", `
call 7
mov %r2, %r0
and %r2, 511
mov %r1, %r10
add %r1, -512
mov %r3, 0
call 115
jslt %r0, 0, out
mov %r1, %r10
add %r1, -16
add %r1, %r0
stb [%r1-1], 0
out:
mov %r0, 0
exit`, false, ""},
	{"two stack pointers' difference is a number", `
mov %r1, %r10
add %r1, -8
mov %r2, %r10
add %r2, -24
sub %r1, %r2
stxdw [%r10-8], %r1
mov %r0, 0
exit`, true, ""},
	{"two stack pointers' difference is their offsets' difference", `
mov %r1, %r10
add %r1, -8
mov %r2, %r10
add %r2, -24
sub %r1, %r2
mov %r3, %r10
add %r3, -32
add %r3, %r1
stdw [%r3+0], 0
mov %r0, 0
exit`, true, linuxPtrDiff},
	{"two stack pointers' difference, misused, points past the frame", `
mov %r1, %r10
add %r1, -8
mov %r2, %r10
add %r2, -24
sub %r1, %r2
mov %r3, %r10
add %r3, -8
add %r3, %r1
stdw [%r3+0], 0
mov %r0, 0
exit`, false, ""},
	{"a 32-bit difference of two stack pointers (test_varlen.c's w6 -= w1)", `
mov %r1, %r10
add %r1, -8
mov %r2, %r10
add %r2, -24
sub32 %r1, %r2
stxw [%r10-8], %r1
mov %r0, 0
exit`, true, ""},
	{"a 32-bit difference of two stack pointers is their offsets' difference", `
mov %r1, %r10
add %r1, -8
mov %r2, %r10
add %r2, -24
sub32 %r1, %r2
mov %r3, %r10
add %r3, -32
add %r3, %r1
stdw [%r3+0], 0
mov %r0, 0
exit`, true, linuxPtrDiff},
	{"a 32-bit difference the wrong way round wraps", `
mov %r1, %r10
add %r1, -8
mov %r2, %r10
add %r2, -24
sub32 %r2, %r1
mov %r3, %r10
add %r3, -32
add %r3, %r2
stdw [%r3+0], 0
mov %r0, 0
exit`, false, ""},
}

// TestOffsetCases: bpfhost gives each of offsetCases its verdict. The
// accepted ones were refused before retrange.go bounded the string
// readers' results and pointerDiff took pointers into one object.
func TestOffsetCases(t *testing.T) {
	info, ok := linux.Lookup("kprobe")
	if !ok {
		t.Fatal("no kprobe program type")
	}
	for _, c := range offsetCases {
		prog, err := isa.Assemble(c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_, err = Verify(prog, Options{Type: info, ABI: linux.ABI()})
		if (err == nil) != c.accept {
			t.Errorf("%s: %v, want accepted %v", c.name, err, c.accept)
		}
		if !c.accept || strings.Contains(c.text, "call") {
			continue
		}
		// Without helper calls, an XDP program too: run it in the
		// checked interpreter with the containment oracle, which checks
		// the difference against the concrete one.
		h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(1, 4))}
		if v := h.try(prog, nil); v != nil {
			h.fail(v)
		}
		if h.accepted != 1 {
			t.Errorf("%s: the XDP harness did not accept it", c.name)
		}
	}
}
