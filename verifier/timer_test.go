package verifier

import (
	"errors"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestTimerArg checks the struct bpf_timer argument of bpf_timer_init: the
// map's BTF must place a timer (MapInfo.HasTimer) exactly where the pointer
// points, as in Linux.
func TestTimerArg(t *testing.T) {
	tail, err := isa.Assemble("mov %r3, 1\ncall 169\nmov %r0, 0\nexit")
	if err != nil {
		t.Fatal(err)
	}
	prog := func(off int32) []isa.Instruction {
		value := isa.LoadImm64(1, isa.PseudoMapValue, uint64(uint32(off))<<32)
		m := isa.LoadImm64(2, isa.PseudoMapFD, 0)
		p := append(value[:], m[:]...)
		return append(p, tail...)
	}
	info, _ := linux.Lookup("tc")
	for _, tc := range []struct {
		name     string
		hasTimer bool
		off      int32
		want     string // "" accepted
	}{
		{"timer at its offset", true, 8, ""},
		{"another offset", true, 0, "needs the bpf_timer of map m's value at offset 8; r1 is at offset 0"},
		{"no timer in the value", false, 8, "has no struct bpf_timer"},
	} {
		maps := []MapInfo{{Name: "m", Type: linux.MapArray, KeySize: 4, ValueSize: 32, MaxEntries: 1, HasTimer: tc.hasTimer, TimerOffset: 8}}
		_, err := Verify(prog(tc.off), Options{Name: "p", Type: info, ABI: linux.ABI(), Maps: maps})
		var ve *VerifierError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v; want accepted", tc.name, err)
		case tc.want != "" && (!errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v; want rejected: %s", tc.name, err, tc.want)
		}
	}
}
