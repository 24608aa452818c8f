package enginetest

import (
	"testing"

	"github.com/bpfhost/bpfhost/vm"
)

// LegacyPacketLoads checks LD_ABS/LD_IND in both memory modes: loads are
// big-endian, the offset may be negative when base plus offset is not, and
// out of bounds ends the program with r0 = 0.
func LegacyPacketLoads(t *testing.T, e vm.Engine) {
	pkt := []byte{0x11, 0x22, 0x33, 0x44, 0x55}
	tests := []struct {
		src  string
		want uint64
	}{
		{"ldabsw 1", 0x22334455},
		{"ldabsh 3", 0x4455},
		{"ldabsb 0", 0x11},
		{"mov %r1, 2\nldindh %r1, 1", 0x4455},
		{"mov %r1, 2\nldindb %r1, -1\nadd %r0, 1", 0x23},
		{"ldabsw 2\nmov %r0, 9", 0},
		{"mov %r1, -1\nldindb %r1, 0\nmov %r0, 9", 0},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			got, err := compile(t, e, tt.src+"\nexit", mode, nil).Run(&vm.RunContext{Packet: pkt})
			if err != nil || got != tt.want {
				t.Errorf("%q (%v): r0 = %#x, %v; want %#x", tt.src, mode, got, err, tt.want)
			}
		}
	}
}
