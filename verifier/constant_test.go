package verifier

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestConstantMapValue: loads at constant offsets from a read-only map
// with known bytes (MapInfo.Constant, the filled .kconfig section) read
// those bytes, so that a branch they decide is followed one way only, as
// Linux does for frozen read-only maps. The path the constant rules out
// reads the packet unchecked. Variable offsets, maps without Constant and
// maps programs may write keep reading unknown numbers.
func TestConstantMapValue(t *testing.T) {
	// Bytes 0-3: 7 (u32); byte 4: 0xfe (-2 as s8).
	kconfig := MapInfo{Name: ".kconfig", Type: linux.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 1,
		ReadOnlyProg: true, Constant: []byte{7, 0, 0, 0, 0xfe, 0, 0, 0}}
	unknown := kconfig
	unknown.Constant = nil
	writable := kconfig
	writable.ReadOnlyProg = false
	const unchecked = "ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit\n"
	tests := []struct {
		name string
		m    MapInfo
		src  string
		want string // "" for accepted
	}{
		{"u32 decides", kconfig, "lddw %r3, 0\nldxw %r4, [%r3+0]\njeq %r4, 7, +3\n" + unchecked + "mov %r0, 2\nexit\n", ""},
		{"u32 other value", kconfig, "lddw %r3, 0\nldxw %r4, [%r3+0]\njeq %r4, 6, +3\n" + unchecked + "mov %r0, 2\nexit\n", "packet"},
		{"sign-extending load", kconfig, "lddw %r3, 0\nldxsb %r4, [%r3+4]\njeq %r4, -2, +3\n" + unchecked + "mov %r0, 2\nexit\n", ""},
		{"offset after pointer arithmetic", kconfig, "lddw %r3, 0\nadd %r3, 4\nldxb %r4, [%r3+0]\njeq %r4, 254, +3\n" + unchecked + "mov %r0, 2\nexit\n", ""},
		{"variable offset", kconfig, "lddw %r3, 0\nldxw %r5, [%r1+12]\nand %r5, 4\nadd %r3, %r5\nldxb %r4, [%r3+0]\njeq %r4, 7, +3\n" + unchecked + "mov %r0, 2\nexit\n", "packet"},
		{"bytes unknown", unknown, "lddw %r3, 0\nldxw %r4, [%r3+0]\njeq %r4, 7, +3\n" + unchecked + "mov %r0, 2\nexit\n", "packet"},
		{"writable map", writable, "lddw %r3, 0\nldxw %r4, [%r3+0]\njeq %r4, 7, +3\n" + unchecked + "mov %r0, 2\nexit\n", "packet"},
		{"write refused", kconfig, "lddw %r3, 0\nstw [%r3+0], 1\nmov %r0, 2\nexit\n", "read-only"},
	}
	info, _ := linux.Lookup("xdp")
	for _, tt := range tests {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		prog[0].Src = isa.PseudoMapIdxValue // lddw of map 0's value, offset 0
		_, err = Verify(prog, Options{Name: tt.name, Type: info, ABI: linux.ABI(), Maps: []MapInfo{tt.m}})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want an error about %q", tt.name, err, tt.want)
		}
	}
}
