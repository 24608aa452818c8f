package verifier

import (
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestRegUseDef: the liveness that decides what splits reads what
// instructions read and write.
func TestRegUseDef(t *testing.T) {
	tests := []struct {
		asm       string
		use, def  uint16
		stackUse  uint64
		stackDef  uint64
		stackNote string
	}{
		{"mov %r1, %r2", 1 << 2, 1 << 1, 0, 0, ""},
		{"add %r1, %r2", 1<<1 | 1<<2, 1 << 1, 0, 0, ""},
		{"mov %r1, 0", 0, 1 << 1, 0, 0, ""},
		{"ldxdw %r3, [%r10-8]", 0, 1 << 3, 1 << 63, 0, ""},
		{"stxdw [%r10-16], %r4", 1 << 4, 0, 0, 1 << 62, ""},
		{"stxw [%r10-16], %r4", 1 << 4, 0, 0, 0, "a partial write kills nothing"},
		{"mov %r2, %r10", 0, 1 << 2, ^uint64(0), 0, "the stack escapes"},
		{"call 1", regsArgs, regsCaller, 0, 0, "helpers read no pointers from the stack"},
		{"call local +0", regsArgs, regsCaller, ^uint64(0), 0, "callees read through pointers"},
		{"exit", 1, 0, 0, 0, ""},
		{"jgt %r1, %r2, +0", 1<<1 | 1<<2, 0, 0, 0, ""},
	}
	for _, tt := range tests {
		p, err := isa.Assemble(tt.asm)
		if err != nil {
			t.Fatalf("%s: %v", tt.asm, err)
		}
		use, def := regUseDef(p[0])
		su, sd := stackUseDef(p[0])
		if use != tt.use || def != tt.def || su != tt.stackUse || sd != tt.stackDef {
			t.Errorf("%s: regs use %b def %b, stack use %x def %x; want %b %b %x %x %s", tt.asm, use, def, su, sd, tt.use, tt.def, tt.stackUse, tt.stackDef, tt.stackNote)
		}
	}
}

// TestHelperArgsLive: a helper call reads the arguments its prototype
// names, no more.
func TestHelperArgsLive(t *testing.T) {
	a := newAnalyzer(nil, &Options{Type: xdpInfo(t), ABI: linux.ABI()})
	for _, tt := range []struct {
		asm string
		use uint16
	}{
		{"call 7", 0},                         // bpf_get_prandom_u32
		{"call 1", 1<<1 | 1<<2},               // bpf_map_lookup_elem
		{"call 2", 1<<1 | 1<<2 | 1<<3 | 1<<4}, // bpf_map_update_elem
		{"call 100000", regsArgs},             // unknown: all five
	} {
		p, err := isa.Assemble(tt.asm)
		if err != nil {
			t.Fatal(err)
		}
		if use, _ := a.regUseDef(p[0]); use != tt.use {
			t.Errorf("%s: use %b, want %b", tt.asm, use, tt.use)
		}
	}
}
