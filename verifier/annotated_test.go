package verifier

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
)

// annotatedDivZero are Linux 6.12 selftests (verifier_linked_scalars.c,
// verifier_scalar_ids.c, verifier_iterating_callbacks.c) annotated
// __failure __msg("div by zero"): each divides by the constant 0 on a path
// that a verifier with a bug in its tracking of linked registers or of
// callback trips would wrongly think dead. bpfhost accepts them because a
// division by 0 is defined (ksrcDivZero in ksrc_linux_test.go); that is
// safe only if bpfhost explores that path, which TestAnnotatedDivZeroPaths
// checks by replacing the division with a read through NULL. Each "DIV"
// in src is that instruction.
var annotatedDivZero = []struct {
	name, src string
	callback  bool // src has a bpf_loop callback (iterVerifyMaps's 0x7777)
}{
	{name: "scalars_self_add_clears_id", src: `
		call 7
		mov r6, r0
		mov r7, r6
		call 7
		mov r8, r0
		mov r9, r8
		jne r7, 1, out
		add r6, r6
		jeq r7, r9, out
		jeq r6, 3, out
		DIV
	out:
		mov r0, 0
		exit`},
	{name: "scalars_self_add_alu32_clears_id", src: `
		call 7
		mov32 r6, r0
		mov32 r7, r6
		call 7
		mov32 r8, r0
		mov32 r9, r8
		jne32 r7, 1, out
		add32 r6, r6
		jeq32 r7, r9, out
		jeq32 r6, 3, out
		DIV
	out:
		mov r0, 0
		exit`},
	{name: "scalars_stale_delta_from_cleared_id", src: `
		call 7
		mov r6, r0
		add r6, 5
		xor r6, 0
		mov r8, r6
		add r8, 3
		mov r9, r6
		jne r9, 10, out
		jeq r8, 8, out
		DIV
	out:
		mov r0, 0
		exit`},
	{name: "scalars_stale_delta_from_cleared_id_alu32", src: `
		call 7
		mov32 r6, r0
		add32 r6, 5
		xor32 r6, 0
		mov32 r8, r6
		add32 r8, 3
		mov32 r9, r6
		jne32 r9, 10, out
		jeq32 r8, 8, out
		DIV
	out:
		mov r0, 0
		exit`},
	{name: "linked_regs_broken_link_2", src: `
		call 7
		mov r7, r0
		mov r8, r0
		call 7
		jgt r0, 1, next
	next:
		jge r8, r0, out
		add r8, r8
		jeq r7, 0, out
		DIV
	out:
		mov r0, 42
		exit`},
	// bpf_loop(2, cb, &ctx, 0) with ctx = {7, 7, 7}; each trip of cb sets
	// one of a, b, c to 42 by a random choice. a == 42 && b == 42 &&
	// c == 7 takes both trips.
	{name: "iter_limit_bug", callback: true, src: `
		stdw [r10-24], 7
		stdw [r10-16], 7
		stdw [r10-8], 7
		mov r1, 2
		lddw r2, 0x7777
		mov r3, r10
		add r3, -24
		mov r4, 0
		call 181
		ldxdw r1, [r10-24]
		jne r1, 42, out
		ldxdw r1, [r10-16]
		jne r1, 42, out
		ldxdw r1, [r10-8]
		jne r1, 7, out
		DIV
	out:
		mov r0, 0
		exit
	cb:
		mov r9, r2
		call 7
		mov r1, r0
		mov r2, 42
		mov r0, 0
		jeq r1, 1, a
		jeq r1, 2, b
		stxdw [r9+16], r2
		exit
	a:
		stxdw [r9+0], r2
		exit
	b:
		stxdw [r9+8], r2
		exit`},
}

// TestAnnotatedDivZeroPaths: annotatedDivZero's programs are accepted as
// Linux's tests wrote them, and refused when the division on the path
// Linux's test checks becomes a read through NULL, so the path is
// explored. The accepted programs run without faults in the checked
// interpreter under containment.
func TestAnnotatedDivZeroPaths(t *testing.T) {
	const null = "mov r1, 0\n\t\tldxdw r0, [r1+0]"
	for _, tc := range annotatedDivZero {
		verify := func(src string) error {
			if tc.callback {
				return iterVerifyMaps(t, src, nil)
			}
			prog, err := isa.Assemble(src)
			if err != nil {
				t.Fatal(err)
			}
			h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(1, 2))}
			_, err = h.verify(prog, nil)
			if err == nil {
				for i := 0; i < 20; i++ {
					if v := h.try(prog, nil); v != nil {
						h.fail(v)
					}
				}
			}
			return err
		}
		if err := verify(strings.Replace(tc.src, "DIV", "div r0, 0", 1)); err != nil {
			t.Errorf("%s: %v; want accepted (a division by 0 is defined)", tc.name, err)
		}
		var ve *VerifierError
		err := verify(strings.Replace(tc.src, "DIV", null, 1))
		if !errors.As(err, &ve) || !hasMessage(ve, "which is NULL") {
			t.Errorf("%s with a read through NULL where Linux's test divides by 0: %v; want refused, the path explored", tc.name, err)
		}
	}
}
