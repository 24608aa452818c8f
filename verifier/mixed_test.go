package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestMixedArithmetic: a register that holds a stack pointer on one path
// and a context pointer on another may be moved and offset by a number
// (PREVAIL's "multiple types add ok"), but never dereferenced, combined
// with another pointer or returned. The paths are joined (a program with
// more paths than the analysis keeps apart has such values; paths.go).
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
		_, err = Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI(), test: &testHooks{sink: -1, paths: 1}})
		checkVerdict(t, tt.name, err, tt.reject)
	}
}

// TestPacketPointerOrNull: a header pointer set on one path and NULL on the
// other is a packet pointer that may be NULL: after a NULL check it reads
// what the packet path proved; before one, any use is refused. The paths
// are joined, as beyond the states the analysis keeps apart (paths.go).
func TestPacketPointerOrNull(t *testing.T) {
	const join = `
		mov %r9, %r1
		ldxw %r2, [%r1+4]
		ldxw %r6, [%r1+0]
		mov %r7, 0
		mov %r3, %r6
		add %r3, 14
		jgt %r3, %r2, drop
		ldxb %r4, [%r6+12]
		jne %r4, 8, joined
		mov %r7, %r6
		add %r7, 14
		mov %r3, %r7
		add %r3, 20
		jgt %r3, %r2, drop
	joined:
		call 7
	`
	const drop = "\ndrop:\nmov %r0, 1\nexit"
	tests := []struct {
		name, tail, reject string
	}{
		{"checked", "jeq %r7, 0, drop\nldxb %r0, [%r7+8]\nexit" + drop, ""},
		{"checked last byte", "jeq %r7, 0, drop\nldxb %r0, [%r7+13]\nexit" + drop, ""},
		{"unchecked", "ldxb %r0, [%r7+8]\nexit" + drop, "NULL"},
		{"arithmetic", "add %r7, 1\nmov %r0, 2\nexit" + drop, "may be NULL"},
		{"compared with the end", "ldxw %r2, [%r9+4]\njgt %r7, %r2, drop\nmov %r0, 2\nexit" + drop, "comparison"},
		{"past the proof", "jeq %r7, 0, drop\nldxb %r0, [%r7+20]\nexit" + drop, "packet"},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(join + tt.tail)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_, err = Verify(prog, Options{Type: xdpInfo(t), ABI: linux.ABI(), test: &testHooks{sink: -1, paths: 1}})
		checkVerdict(t, tt.name, err, tt.reject)
	}
}
