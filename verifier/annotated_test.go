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

// annotatedPrecise are Linux 6.12 selftests annotated __failure that
// bpfhost accepts because it proves the access safe where Linux loses
// precision (ksrcPrecise in ksrc_linux_test.go), rewritten as XDP
// programs for the soundness harness (xdp_md: data at 0, data_end at 4,
// data_meta at 8). "X" in src is safe in the selftest's program, which is
// accepted, and attack in a variant that breaks the proof, which must be
// refused with a message containing want.
var annotatedPrecise = []struct {
	name, src, safe, attack, want string
}{
	// verifier_meta_access.c meta_access_test3: data_meta + 8 <= data_end
	// makes data_meta's first byte readable: data_meta <= data <= data_end.
	{"meta_access_test3", `
		ldxw r2, [r1+8]
		ldxw r3, [r1+4]
		mov r0, r2
		add r0, 8
		jgt r0, r3, out
		X
	out:
		mov r0, 0
		exit`, "ldxb r0, [r2+0]", "ldxb r0, [r2+8]", "packet"},
	// meta_access_test4: data + 8 <= data_end, a read at data_meta.
	{"meta_access_test4", `
		ldxw r2, [r1+8]
		ldxw r3, [r1+4]
		ldxw r4, [r1+0]
		mov r0, r4
		add r0, 8
		jgt r0, r3, out
		X
	out:
		mov r0, 0
		exit`, "ldxb r0, [r2+0]", "ldxb r0, [r2-1]", "packet"},
	// meta_access_test9 tests data_meta + 0x10000 <= data, a branch that
	// is dead (data_meta lies at most platform.MaxMetaSize bytes before
	// data); with data_meta + 8 <= data, the byte at data_meta + 7 is
	// readable, the one at data_meta + 8 may not be.
	{"meta_access_test9", `
		ldxw r2, [r1+8]
		ldxw r3, [r1+0]
		mov r4, r2
		add r4, 8
		jgt r4, r3, out
		X
	out:
		mov r0, 0
		exit`, "ldxb r0, [r2+7]", "ldxb r0, [r2+8]", "packet"},
	// verifier_direct_packet_access.c test23_x_pkt_ptr_4 (the skb's mark
	// a random u32 here, and 0 stored where the test stores r0): r5 =
	// data + 31 + (x & 0xffff); r5 + 0xfffe <= data_end makes 8 bytes at
	// r5 writable.
	{"test23_x_pkt_ptr_4", `
		mov r6, r1
		call 7
		mov r1, r6
		ldxw r2, [r1+0]
		ldxw r3, [r1+4]
		stxdw [r10-8], r0
		ldxdw r0, [r10-8]
		and r0, 0xffff
		mov r4, r0
		mov r0, 31
		add r0, r4
		add r0, r2
		mov r5, r0
		X
		jgt r0, r3, out
		stdw [r5+0], 0
	out:
		mov r0, 0
		exit`, "add r0, 0xfffe", "add r0, 6", "packet"},
	// verifier_spill_fill.c addr_offset_to_skb_data: 20 spilled as 32 bits
	// at r10-4 and filled is still 20: data + 20 <= data_end.
	{"addr_offset_to_skb_data", `
		ldxw r2, [r1+0]
		ldxw r3, [r1+4]
		mov32 r4, 20
		stxw [r10-8], r4
		stxw [r10-4], r4
		ldxw r4, [r10-4]
		mov r0, r2
		add r0, r4
		jgt r0, r3, out
		X
	out:
		mov r0, 0
		exit`, "ldxw r0, [r2+0]", "ldxw r0, [r2+17]", "packet"},
	// verifier_unpriv.c fill_of_different_pointers_stx: the context
	// pointer is never NULL, so the slot at r10-8 holds r10-16 on every
	// path, and the store goes to r10-8.
	{"fill_of_different_pointers_stx", `
		mov r3, 42
		mov r6, r10
		add r6, -8
		jeq r1, 0, l0
		mov r2, r10
		add r2, -16
		stxdw [r6+0], r2
	l0:
		jne r1, 0, l1
		stxdw [r6+0], r1
	l1:
		ldxdw r1, [r6+0]
		X
		mov r0, 0
		exit`, "stxw [r1+8], r3", "stxw [r1+16], r3", "outside"},
	// verifier_bounds.c shift_with_oversized_count_operand: w1 <<= 32 is
	// w1 <<= 0 (the count masked, as RFC 9669 and the engines mask it).
	{"shift_with_oversized_count_operand", `
		mov r1, 0
		stxdw [r10-8], r1
		mov r2, r10
		add r2, -8
		lddw r1, 0
		call 1
		jeq r0, 0, out
		X
		mov r1, 1
		lsh32 r1, r2
		and r1, 0xffff
		add r0, r1
		ldxb r0, [r0+14]
	out:
		mov r0, 0
		exit`, "mov r2, 32", "mov r2, 34", "outside"},
}

// TestAnnotatedPreciseContained: annotatedPrecise's programs are accepted
// and run without faults in the checked interpreter under containment,
// and their attack variants are refused.
func TestAnnotatedPreciseContained(t *testing.T) {
	for _, tc := range annotatedPrecise {
		h := &harness{t: t, info: xdpInfo(t), rng: rand.New(rand.NewPCG(3, 4))}
		attack := assembleMaps(t, strings.Replace(tc.src, "X", tc.attack, 1))
		_, err := h.verify(attack, fuzzMaps)
		if ve := (*VerifierError)(nil); !errors.As(err, &ve) || !hasMessage(ve, tc.want) {
			t.Errorf("%s with %q: %v; want refused: %s", tc.name, tc.attack, err, tc.want)
		}
		prog := assembleMaps(t, strings.Replace(tc.src, "X", tc.safe, 1))
		if _, err := h.verify(prog, fuzzMaps); err != nil {
			t.Errorf("%s: %v; want accepted", tc.name, err)
			continue
		}
		for i := 0; i < 30; i++ {
			if v := h.try(prog, fuzzMaps); v != nil {
				h.fail(v)
			}
		}
		if h.accepted == 0 || h.runs == 0 {
			t.Errorf("%s: never run (accepted %d, runs %d)", tc.name, h.accepted, h.runs)
		}
	}
}
