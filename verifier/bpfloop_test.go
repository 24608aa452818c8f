package verifier

import (
	"fmt"
	"testing"
)

// bpfLoopCount is a tc program: a bpf_loop (181) of count calls of a
// callback that adds 1 to the caller's r10-16, then a byte read at
// r10-2 plus that number.
func bpfLoopCount(count int) string {
	return fmt.Sprintf(`
	stdw [r10-8], 0
	stdw [r10-16], 0
	mov r1, %d
	lddw r2, 0x7777
	mov r3, r10
	add r3, -16
	mov r4, 0
	call 181
	ldxdw r1, [r10-16]
	mov r2, r10
	add r2, -2
	add r2, r1
	ldxb r0, [r2+0]
	mov r0, 0
	exit
cb:
	ldxdw r1, [r2+0]
	add r1, 1
	stxdw [r2+0], r1
	mov r0, 0
	exit`, count)
}

// TestBPFLoopExactCalls: a bpf_loop of a small count follows the calls one
// by one (callback), as Linux does: one call leaves the number in [0, 1],
// and the read stays in the frame (verifier_iterating_callbacks.c's
// bpf_loop_iter_limit_ok, refused before as "an unchecked offset"); two
// calls may reach r10+0, outside it (..._overflow). A large count is
// widened as before, and refused.
func TestBPFLoopExactCalls(t *testing.T) {
	for _, tt := range []struct {
		count  int
		accept bool
	}{
		{0, true}, {1, true}, {2, false}, {32, false}, {1000, false},
	} {
		err := iterVerify(t, bpfLoopCount(tt.count))
		if (err == nil) != tt.accept {
			t.Errorf("count %d: %v, want accepted %v", tt.count, err, tt.accept)
		}
	}
}
