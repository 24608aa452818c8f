package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestFlowKeys: a flow dissector reads and writes struct bpf_flow_keys
// through __sk_buff.flow_keys (offset 144), within its 56 bytes, with
// pointer arithmetic, and stores no pointer into it. The pointer used to be
// opaque, so no flow dissector could report a flow.
func TestFlowKeys(t *testing.T) {
	info, ok := linux.Lookup("flow_dissector")
	if !ok {
		t.Fatal("no flow_dissector type")
	}
	const load = "ldxdw %r2, [%r1+144]\n"
	for _, tt := range []struct {
		name, src, reject string
	}{
		{"read and write", load + "ldxh %r3, [%r2+0]\nstxh [%r2+2], %r3\nstw [%r2+52], 1\nmov %r0, 0\nexit", ""},
		{"arithmetic", load + "add %r2, 48\nldxw %r3, [%r2+4]\nmov %r0, 0\nexit", ""},
		{"past the end", load + "ldxw %r3, [%r2+53]\nmov %r0, 0\nexit", "outside the 56-byte struct bpf_flow_keys"},
		{"before the start", load + "ldxb %r3, [%r2-1]\nmov %r0, 0\nexit", "outside the 56-byte struct bpf_flow_keys"},
		{"pointer stored", load + "stxdw [%r2+16], %r1\nmov %r0, 0\nexit", "would leak it"},
		{"written flow_keys field", "stdw [%r1+144], 0\nmov %r0, 0\nexit", "flow_keys"},
	} {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_, err = Verify(prog, Options{Type: info, ABI: linux.ABI()})
		checkVerdict(t, tt.name, err, tt.reject)
	}
}
