package verifier_test

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/verifier"
)

// TestStridedPointer: a stack pointer that steps by a constant in a loop
// whose counter is bounded is bounded at the head by the trip count
// (strideptr.go), so the writes through it are proven in the frame; one
// trip too many, a stride that leaves the frame, a stride that differs
// between paths and a counter with no bound are refused.
// stridedPointerProg is the loop of TestStridedPointer: r2 starts at
// r10+START, stores 7 through r2 and steps by STEP (and EXTRA), until the
// counter r3 reaches END.
const stridedPointerProg = `
	call 7
	mov %r6, %r0
	mov %r2, %r10
	add %r2, START
	mov %r3, 0
loop:
	stw [%r2+0], 7
	EXTRA
	add %r2, STEP
	add %r3, 1
	jlt %r3, END, loop
	mov %r0, 2
	exit
`

// stridedPointerCases are TestStridedPointer's rows: "" accepted, else a
// part of the refusal. Linux's verdict is the same on every row
// (TestStridedPointerKernel).
var stridedPointerCases = []struct {
	name, start, step, end, extra, reject string
}{
	{"up by 8, 8 trips", "-64", "8", "8", "", ""},
	{"down by 8, 64 trips", "-8", "-8", "64", "", ""},
	{"up by 4, 3 trips", "-12", "4", "3", "", ""},
	{"one trip too many", "-64", "8", "9", "", "write"},
	{"down one too many", "-8", "-8", "65", "", "write"},
	{"stride leaves the frame", "-64", "16", "8", "", "write"},
	{"stride differs on paths", "-64", "8", "8", "jeq %r6, 0, +1\nadd %r2, 8", "write"},
	{"counter unbounded", "-64", "8", "%r6", "", "write through r2"},
}

// stridedPointerCase assembles row i of stridedPointerCases.
func stridedPointerCase(t *testing.T, i int) []isa.Instruction {
	t.Helper()
	tt := stridedPointerCases[i]
	src := strings.NewReplacer("START", tt.start, "STEP", tt.step, "END", tt.end, "EXTRA", tt.extra).Replace(stridedPointerProg)
	p, err := isa.Assemble(src)
	if err != nil {
		t.Fatalf("%s: %v", tt.name, err)
	}
	return p
}

func TestStridedPointer(t *testing.T) {
	xdp, ok := linux.Lookup("xdp")
	if !ok {
		t.Fatal("no xdp program type")
	}
	for i, tt := range stridedPointerCases {
		_, err := verifier.Verify(stridedPointerCase(t, i), verifier.Options{Type: xdp, ABI: linux.ABI()})
		switch {
		case tt.reject == "" && err != nil:
			t.Errorf("%s: rejected: %v", tt.name, err)
		case tt.reject != "" && err == nil:
			t.Errorf("%s: accepted, want a rejection mentioning %q", tt.name, tt.reject)
		case tt.reject != "" && !strings.Contains(err.Error(), tt.reject):
			t.Errorf("%s: %v, want a message mentioning %q", tt.name, err, tt.reject)
		}
	}
}
