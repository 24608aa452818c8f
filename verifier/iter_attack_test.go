package verifier

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestIterAttacks are attacks on the open-coded iterator's rules (0037):
// the iterator's 8 stack bytes reached through aliases, next's int pointer
// kept past its iterator, iterators across frames, callbacks and tail
// calls. Each refused program must be refused for the reason given; the
// accepted ones are safe uses that must stay accepted.
func TestIterAttacks(t *testing.T) {
	maps := []MapInfo{{Name: "arr", Type: linux.MapArray, KeySize: 4, ValueSize: 16, MaxEntries: 1},
		{Name: "jmp", Type: linux.MapProgArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}}
	for _, tc := range []struct {
		name, src, want string // want "": accepted
	}{
		{"a callee stores through a pointer to its caller's iterator", iterMake + `
			mov r1, r6
			call local f
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		f:
			stdw [r1+0], 0
			exit`, "touches the iterator"},
		{"a callee reads its caller's iterator", iterMake + `
			mov r1, r6
			call local f
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		f:
			ldxw r0, [r1+4]
			exit`, "touches the iterator"},
		{"a spilled pointer to the iterator, reloaded and stored through", iterMake + `
			stxdw [r10-16], r6
			ldxdw r1, [r10-16]
			stw [r1+4], 7
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "touches the iterator"},
		{"bpf_skb_load_bytes into the iterator", "mov r8, r1\n" + iterMake + `
			mov r1, r8
			mov r2, 0
			mov r3, r6
			mov r4, 8
			call 26
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "touches the iterator"},
		{"bpf_skb_load_bytes into a buffer that overlaps it", "mov r8, r1\n" + iterMake + `
			mov r1, r8
			mov r2, 0
			mov r3, r10
			add r3, -16
			mov r4, 12
			call 26
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "touches the iterator"},
		{"an atomic add on the iterator", iterMake + `
			mov r1, 1
			lock add [r10-8], r1
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "touches the iterator"},
		{"a byte load of the iterator", iterMake + `
			ldxb r0, [r10-3]
			mov r1, r6
			call 900003
			exit`, "touches the iterator"},
		{"a variable-offset load that may read it", iterMake + `
			call 7
			and r0, 8
			mov r1, r10
			add r1, -16
			add r1, r0
			ldxw r0, [r1+0]
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "touches the iterator"},
		{"the iterator as a map key", iterMake + `
			lddw r1, 0
			mov r2, r6
			call 1
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "touches the iterator"},
		{"next's int read after destroy", iterMake + `
			mov r1, r6
			call 900002
			mov r7, r0
			mov r1, r6
			call 900003
			jeq r7, 0, out
			ldxw r0, [r7+0]
		out:
			mov r0, 0
			exit`, "r7"},
		{"next's int, spilled, read after destroy", iterMake + `
			mov r1, r6
			call 900002
			stxdw [r10-16], r0
			mov r1, r6
			call 900003
			ldxdw r7, [r10-16]
			jeq r7, 0, out
			ldxw r0, [r7+0]
		out:
			mov r0, 0
			exit`, "r7"},
		{"next's int read after the slot is reused by a second new", iterMake + `
			mov r1, r6
			call 900002
			mov r7, r0
			mov r1, r6
			call 900003
			mov r1, r6
			mov r2, 0
			mov r3, 10
			call 900001
			mov r1, r6
			call 900002
			jeq r7, 0, done
			ldxw r0, [r7+0]
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "r7"},
		{"next's int written", iterMake + `
			mov r1, r6
			call 900002
			jeq r0, 0, done
			stw [r0+0], 100
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "read-only"},
		{"next's int read past its 4 bytes", iterMake + `
			mov r1, r6
			call 900002
			jeq r0, 0, done
			ldxdw r7, [r0+0]
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "outside its 4 bytes"},
		{"next's int as a helper's destination", iterMake + `
			mov r1, r6
			call 900002
			jeq r0, 0, done
			mov r1, r0
			mov r2, 4
			mov r3, 0
			call 113
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "r1"},
		{"next's int stored in a map value", iterMake + `
			mov r1, r6
			call 900002
			mov r7, r0
			stw [r10-16], 0
			lddw r1, 0
			mov r2, r10
			add r2, -16
			call 1
			jeq r0, 0, done
			stxdw [r0+0], r7
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "r7"},
		{"a pointer to the iterator stored in a map value", iterMake + `
			stw [r10-16], 0
			lddw r1, 0
			mov r2, r10
			add r2, -16
			call 1
			jeq r0, 0, done
			stxdw [r0+0], r6
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "r6"},
		{"a loop stepping one iterator on some paths and another on the rest", iterMake + `
			mov r1, r10
			add r1, -16
			mov r2, 0
			mov r3, 10
			call 900001
			mov r7, 0
		loop:
			add r7, 1
			mov r1, r6
			jset r7, 1, odd
			mov r1, r10
			add r1, -16
		odd:
			call 900002
			jeq r0, 0, done
			ja loop
		done:
			mov r1, r6
			call 900003
			mov r1, r10
			add r1, -16
			call 900003
			mov r0, 0
			exit`, "loop may not terminate"},
		{"a loop stepping two iterators on alternate paths, each checked", iterMake + `
			mov r1, r10
			add r1, -16
			mov r2, 0
			mov r3, 10
			call 900001
			mov r7, 0
		loop:
			add r7, 1
			jset r7, 1, odd
			mov r1, r10
			add r1, -16
			call 900002
			jeq r0, 0, done
			ja loop
		odd:
			mov r1, r6
			call 900002
			jeq r0, 0, done
			ja loop
		done:
			mov r1, r6
			call 900003
			mov r1, r10
			add r1, -16
			call 900003
			mov r0, 0
			exit`, "loop may not terminate"},
		{"a tail call with a live iterator", `
			mov r8, r1
			` + iterMake + `
			mov r1, r8
			lddw r2, 1
			mov r3, 0
			call 12
			mov r1, r6
			call 900003
			mov r0, 0
			exit`, "bpf_tail_call would leak the iterator"},
		{"a subprogram tail-calls while its caller holds an iterator", "mov r8, r1\n" + iterMake + `
			mov r1, r8
			call local f
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		f:
			lddw r2, 1
			mov r3, 0
			call 12
			mov r0, 0
			exit`, "bpf_tail_call would leak the iterator"},
		{"next's int passed to a callee that reads it after destroying the iterator", iterMake + `
			mov r1, r6
			call 900002
			jeq r0, 0, out
			mov r1, r6
			mov r2, r0
			call local f
			mov r0, 0
			exit
		out:
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		f:
			mov r7, r2
			call 900003
			ldxw r0, [r7+0]
			exit`, "r7 is opaque"},
		{"a callee destroys its caller's iterator, the caller steps it", iterMake + `
			mov r1, r6
			call local f
			mov r1, r6
			call 900002
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		f:
			call 900003
			exit`, "none lives there"},
		{"a callee destroys its caller's iterator, which the caller destroys again", iterMake + `
			mov r1, r6
			call local f
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		f:
			call 900003
			exit`, "none lives there"},
		{"a callee steps its caller's iterator, which the caller destroys", iterMake + `
			mov r1, r6
			call local f
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		f:
			call 900002
			mov r0, 0
			exit`, ""},
		{"a callee makes an iterator in its caller's frame, which the caller destroys", `
			mov r1, r10
			add r1, -8
			call local f
			mov r1, r10
			add r1, -8
			call 900003
			mov r0, 0
			exit
		f:
			mov r2, 0
			mov r3, 10
			call 900001
			mov r0, 0
			exit`, ""},
		{"a bpf_loop callback destroys its caller's iterator", iterMake + `
			mov r1, 3
			lddw r2, 0x7777
			mov r3, r6
			mov r4, 0
			call 181
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		cb:
			mov r1, r2
			call 900003
			mov r0, 0
			exit`, "none lives there"},
		{"a bpf_loop callback steps its caller's iterator and reads the int", iterMake + `
			mov r1, 3
			lddw r2, 0x7777
			mov r3, r6
			mov r4, 0
			call 181
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		cb:
			mov r1, r2
			call 900002
			jeq r0, 0, none
			ldxw r0, [r0+0]
			mov r0, 0
		none:
			exit`, ""},
		{"a bpf_loop callback writes its caller's iterator", iterMake + `
			mov r1, 3
			lddw r2, 0x7777
			mov r3, r6
			mov r4, 0
			call 181
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		cb:
			stdw [r2+0], 0
			mov r0, 0
			exit`, "touches the iterator"},
		{"a callee destroys its caller's iterator; the caller reads next's int it kept", iterMake + `
			mov r1, r6
			call 900002
			mov r7, r0
			mov r1, r6
			call local f
			jeq r7, 0, out
			ldxw r0, [r7+0]
		out:
			mov r0, 0
			exit
		f:
			call 900003
			exit`, "r7 is opaque"},
		{"a callee remakes its caller's iterator; the caller reads next's int it kept", iterMake + `
			mov r1, r6
			call 900002
			mov r7, r0
			mov r1, r6
			call local f
			jeq r7, 0, out
			ldxw r0, [r7+0]
		out:
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		f:
			mov r6, r1
			call 900003
			mov r1, r6
			mov r2, 0
			mov r3, 10
			call 900001
			exit`, "r7 is opaque"},
		{"a callee leaves a pointer to its own iterator slot in its caller's frame", `
			mov r1, r10
			add r1, -16
			call local f
			ldxdw r1, [r10-16]
			call 900003
			mov r0, 0
			exit
		f:
			mov r6, r1
			` + iterMake + `
			stxdw [r6+0], r10
			mov r1, r10
			add r1, -8
			call 900003
			exit`, "r1"},
		// Each trip destroys the iterator and has mk make it afresh, with
		// the same id (mk's new call at the same depth): the loop never
		// ends. Accepted before iterBounded looked at the depth that made
		// the iterator; Linux refuses it (its C form, clang-19 -O2).
		{"a loop that remakes its iterator through a subprogram", `
			mov r6, r10
			add r6, -8
			mov r1, r6
			call local mk
		loop:
			mov r1, r6
			call 900002
			jeq r0, 0, done
			mov r1, r6
			call 900003
			mov r1, r6
			call local mk
			ja loop
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		mk:
			mov r2, 0
			mov r3, 10
			call 900001
			mov r0, 0
			exit`, "loop may not terminate"},
		{"a loop that remakes its iterator through a bpf_loop callback", `
			mov r6, r10
			add r6, -8
			mov r1, 1
			lddw r2, 0x7777
			mov r3, r6
			mov r4, 0
			call 181
		loop:
			mov r1, r6
			call 900002
			jeq r0, 0, done
			mov r1, r6
			call 900003
			mov r1, 1
			lddw r2, 0x7777
			mov r3, r6
			mov r4, 0
			call 181
			ja loop
		done:
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		mk:
			mov r1, r2
			mov r2, 0
			mov r3, 10
			call 900001
			mov r0, 0
			exit`, "still held when the bpf_loop callback returns"},
		{"a callee's loop over an iterator its caller made in a sibling call", `
			mov r6, r10
			add r6, -8
			mov r1, r6
			call local mk
			mov r1, r6
			call local drain
			mov r1, r6
			call 900003
			mov r0, 0
			exit
		mk:
			mov r2, 0
			mov r3, 10
			call 900001
			mov r0, 0
			exit
		drain:
			mov r6, r1
		again:
			mov r1, r6
			call 900002
			jne r0, 0, again
			mov r0, 0
			exit`, ""},
		{"a callee returns next's int of its own iterator, destroyed", `
			call local f
			jeq r0, 0, out
			ldxw r0, [r0+0]
		out:
			mov r0, 0
			exit
		f:
			` + iterMake + `
			mov r1, r6
			call 900002
			mov r7, r0
			mov r1, r6
			call 900003
			mov r0, r7
			exit`, "r0"},
	} {
		err := iterVerifyMaps(t, tc.src, maps)
		var ve *VerifierError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v; want accepted", tc.name, err)
		case tc.want != "" && (!errors.As(err, &ve) || !hasMessage(ve, tc.want)):
			t.Errorf("%s: %v; want rejected: %s", tc.name, err, tc.want)
		}
	}
}
