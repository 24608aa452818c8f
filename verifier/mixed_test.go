package verifier

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestMixedArithmetic: a register that holds a stack pointer on one path
// and a context pointer on another may be moved and offset by a number
// (PREVAIL's "multiple types add ok"), but never dereferenced, combined
// with another pointer or returned.
func TestMixedArithmetic(t *testing.T) {
	const join = `
		mov %r2, %r10
		add %r2, -8
		ldxw %r3, [%r1+16]
		jeq %r3, 0, joined
		mov %r2, %r1
	joined:
		mov %r4, 4
	`
	tests := []struct {
		name, tail, reject string
	}{
		{"add imm", "add %r2, 4\nmov %r0, 2\nexit", ""},
		{"sub imm", "sub %r2, 4\nmov %r0, 2\nexit", ""},
		{"add reg", "add %r2, %r4\nadd %r4, %r2\nmov %r0, 2\nexit", ""},
		{"read", "add %r2, 4\nldxw %r0, [%r2+0]\nexit", "different kinds"},
		{"write", "sub %r2, 4\nstw [%r2+0], 1\nmov %r0, 2\nexit", "different kinds"},
		{"two pointers", "add %r2, %r10\nmov %r0, 2\nexit", "different kinds"},
		{"returned", "add %r2, 4\nmov %r0, %r2\nexit", "must return a number"},
		{"32-bit", "add32 %r2, 4\nmov %r0, 2\nexit", "different kinds"},
		{"mul", "mul %r2, 4\nmov %r0, 2\nexit", "different kinds"},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(join + tt.tail)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_, err = Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI()})
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
