package verifier

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestStrideBoundsCounter: a packet offset that steps by a constant and
// ends on equality is bounded at the loop head by its trip count proof
// (stride.go), so the read it indexes is proven; one trip too many, a
// start that is not one number, or an end the stride skips, are refused.
func TestStrideBoundsCounter(t *testing.T) {
	const prog = `
		mov %r6, %r1
		START
		ldxw %r2, [%r6+0]
		ldxw %r3, [%r6+4]
		mov %r4, %r2
		add %r4, 200
		jgt %r4, %r3, out
	loop:
		mov %r5, %r2
		add %r5, %r8
		ldxb %r0, [%r5+0]
		add %r8, STEP
		jeq %r8, END, done
		ja loop
	done:
		mov %r0, 2
		exit
	out:
		mov %r0, 1
		exit
	`
	tests := []struct {
		name, start, step, end, reject string
	}{
		{"by 5 to 200", "mov %r8, 0", "5", "200", ""},
		{"by 7 to 203", "mov %r8, 0", "7", "203", ""},
		{"from 10 by 5", "mov %r8, 10", "5", "200", ""},
		{"one trip too many", "mov %r8, 0", "5", "205", "packet read"},
		{"start unknown", "call 7\nmov %r8, %r0\nand %r8, 1", "5", "200", "may not terminate"},
		{"end skipped", "mov %r8, 0", "5", "201", "may not terminate"},
	}
	for _, tt := range tests {
		src := strings.NewReplacer("START", tt.start, "STEP", tt.step, "END", tt.end).Replace(prog)
		p, err := isa.Assemble(src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_, err = Verify(p, Options{Type: xdpInfo(t), ABI: linux.ABI()})
		checkVerdict(t, tt.name, err, tt.reject)
	}
}
