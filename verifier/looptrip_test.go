package verifier

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestCountedLoops: loops that leave when a counter with a constant stride
// equals a constant end are accepted when the end lies on the counter's
// path, on every trip; the shapes where it may not are rejected.
func TestCountedLoops(t *testing.T) {
	const (
		ctxWord = "ldxw %r2, [%r1+0]\n" // an unknown number
		tail    = "mov %r0, 2\nexit\n"
	)
	tests := []struct {
		name, src string
		accept    bool
	}{
		{"up by 7 to 448", "mov %r1, 0\nloop:\nadd %r1, 7\njeq %r1, 448, out\nja loop\nout:\n" + tail, true},
		{"32-bit up by 7", "mov32 %r1, 0\nloop:\nadd32 %r1, 7\njeq32 %r1, 448, out\nja loop\nout:\n" + tail, true},
		{"down by 7 to 0", "mov %r1, 448\nloop:\nsub %r1, 7\njeq %r1, 0, out\nja loop\nout:\n" + tail, true},
		{"test first", "mov %r1, 21\nloop:\njeq %r1, 448, out\nadd %r1, 7\nja loop\nout:\n" + tail, true},
		{"spilled counter", "stdw [%r10-8], 0\nloop:\nldxdw %r1, [%r10-8]\nadd %r1, 7\nstxdw [%r10-8], %r1\njeq %r1, 448, out\nja loop\nout:\n" + tail, true},
		{"stride skips the end", "mov %r1, 0\nloop:\nadd %r1, 8\njeq %r1, 450, out\nja loop\nout:\n" + tail, false},
		{"32-bit wraps to the end", "mov32 %r1, 0\nloop:\nadd32 %r1, 7\njeq32 %r1, 450, out\nja loop\nout:\n" + tail, false},
		{"unknown start", ctxWord + "loop:\nadd %r2, 7\njeq %r2, 448, out\nja loop\nout:\n" + tail, false},
		{"one stride on every trip", ctxWord + "mov %r1, 0\nloop:\nadd %r1, 7\njeq %r2, 0, test\nadd %r1, 7\ntest:\njeq %r1, 448, out\nja loop\nout:\n" + tail, true},
		{"two strides", "mov %r6, 0\nloop:\nadd %r6, 7\ncall 7\njeq %r0, 0, test\nadd %r6, 7\ntest:\njeq %r6, 448, out\nja loop\nout:\n" + tail, false},
		{"test skipped on a path", "mov %r6, 0\nloop:\nadd %r6, 7\ncall 7\njeq %r0, 0, loop\njeq %r6, 448, out\nja loop\nout:\n" + tail, false},
		{"start differs by path", ctxWord + "mov %r1, 0\njeq %r2, 0, loop\nmov %r1, 1\nloop:\nadd %r1, 7\njeq %r1, 448, out\nja loop\nout:\n" + tail, false},
		{"no end", "mov %r1, 0\nloop:\nadd %r1, 7\nja loop\n" + tail, false},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_, err = Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI()})
		switch {
		case tt.accept && err != nil:
			t.Errorf("%s: rejected: %v", tt.name, err)
		case !tt.accept && err == nil:
			t.Errorf("%s: accepted", tt.name)
		case !tt.accept && !strings.Contains(err.Error(), "may not terminate"):
			t.Errorf("%s: %v, want it rejected as a loop that may not terminate", tt.name, err)
		}
	}
}
