package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/platform/linux"
)

// flowKeysLoad loads __sk_buff.flow_keys into r2 (r1 the context).
const flowKeysLoad = "ldxdw %r2, [%r1+144]\n"

// flowKeysAttacks attack flow_keys of flow dissectors (0044): accesses
// out of the 56-byte struct bpf_flow_keys after arithmetic, variable
// offsets, atomics, 32-bit arithmetic, narrow loads of the field, leaks
// and helper arguments, with the verdict Linux gives each. The atomic and
// the variable offsets were accepted before Linux's rules for them were
// added. Linux as root also accepts storing a pointer into the keys and
// returning their address (allow_ptr_leaks): bpfhost refuses both
// (TestFlowKeysLeaks).
var flowKeysAttacks = []loadCase{
	{"moved to its end and read back", "flow_dissector", flowKeysLoad + "add %r2, 56\nldxw %r3, [%r2-4]\nmov %r0, 0\nexit", true},
	{"moved to its end and written", "flow_dissector", flowKeysLoad + "add %r2, 56\nstb [%r2+0], 1\nmov %r0, 0\nexit", false},
	{"moved before it and read", "flow_dissector", flowKeysLoad + "add %r2, -8\nldxw %r3, [%r2+4]\nmov %r0, 0\nexit", false},
	{"moved far and back", "flow_dissector", flowKeysLoad + "add %r2, -30000\nldxw %r3, [%r2+30000]\nmov %r0, 0\nexit", true},
	{"moved by a variable", "flow_dissector", flowKeysLoad + "ldxh %r3, [%r2+0]\nand %r3, 7\nadd %r2, %r3\nldxb %r3, [%r2+0]\nmov %r0, 0\nexit", false},
	{"moved by a subtraction of a variable", "flow_dissector", flowKeysLoad + "ldxh %r3, [%r2+0]\nand %r3, 7\nsub %r2, %r3\nldxb %r3, [%r2+8]\nmov %r0, 0\nexit", false},
	{"moved with a 32-bit add", "flow_dissector", flowKeysLoad + "add32 %r2, 0\nldxb %r3, [%r2+0]\nmov %r0, 0\nexit", false},
	{"an atomic add into it", "flow_dissector", flowKeysLoad + "mov %r3, 1\nlock add32 [%r2+52], %r3\nmov %r0, 0\nexit", false},
	{"the field loaded as 4 bytes", "flow_dissector", "ldxw %r2, [%r1+144]\nldxb %r3, [%r2+0]\nmov %r0, 0\nexit", false},
	{"spilled, reloaded and written", "flow_dissector", flowKeysLoad + "stxdw [%r10-8], %r2\nldxdw %r3, [%r10-8]\nstw [%r3+52], 1\nmov %r0, 0\nexit", true},
	{"spilled, a byte overwritten, reloaded and written", "flow_dissector", flowKeysLoad + "stxdw [%r10-8], %r2\nstb [%r10-8], 0\nldxdw %r3, [%r10-8]\nstw [%r3+52], 1\nmov %r0, 0\nexit", false},
	{"bpf_skb_load_bytes into it", "flow_dissector", flowKeysLoad + "mov %r3, %r2\nmov %r2, 0\nmov %r4, 8\ncall 26\nmov %r0, 0\nexit", false},
	{"bpf_skb_load_bytes past it", "flow_dissector", flowKeysLoad + "mov %r3, %r2\nmov %r2, 0\nmov %r4, 64\ncall 26\nmov %r0, 0\nexit", false},
	{"compared with NULL", "flow_dissector", flowKeysLoad + "mov %r0, 0\njne %r2, 0, out\nldxb %r0, [%r2+0]\nout:\nexit", true},
}

// TestFlowKeysAttacks: bpfhost's verifier and Linux's (root; skipped
// otherwise) give each flow_keys attack the verdict it expects.
func TestFlowKeysAttacks(t *testing.T) {
	checkLoadCases(t, flowKeysAttacks, nil, nil)
}

// TestFlowKeysLeaks: pointers stored into the flow keys, or their address
// returned, are refused as leaks of host addresses, which Linux as root
// accepts.
func TestFlowKeysLeaks(t *testing.T) {
	info, _ := linux.Lookup("flow_dissector")
	for _, tt := range []struct{ name, src, reject string }{
		{"the context stored into it", flowKeysLoad + "stxdw [%r2+0], %r1\nmov %r0, 0\nexit", "would leak it"},
		{"a stack pointer stored into it", flowKeysLoad + "stxdw [%r2+8], %r10\nmov %r0, 0\nexit", "would leak it"},
		{"its address returned", flowKeysLoad + "mov %r0, %r2\nexit", "must return a number"},
	} {
		_, err := Verify(assembleMaps(t, tt.src), Options{Type: info, ABI: linux.ABI()})
		checkVerdict(t, tt.name, err, tt.reject)
	}
}
