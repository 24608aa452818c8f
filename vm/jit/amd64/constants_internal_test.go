package amd64

import (
	"maps"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
)

// TestConstantArgs checks which calls of helper 1 the analysis finds a
// constant r1 for: only where every path brings the same lddw constant.
func TestConstantArgs(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want map[int]uint64 // slot of the call -> r1
	}{
		{"direct", "lddw %r1, 0x1000\ncall 1\nexit", map[int]uint64{2: 0x1000}},
		{"copied", "lddw %r6, 0x1000\nmov %r1, %r6\ncall 1\nexit", map[int]uint64{3: 0x1000}},
		{"32-bit copy", "lddw %r6, 0x1000\nmov32 %r1, %r6\ncall 1\nexit", nil},
		{"sign-extending copy", "lddw %r6, 0x1000\nmovsx3264 %r1, %r6\ncall 1\nexit", nil},
		{"immediate", "mov %r1, 0x1000\ncall 1\nexit", nil},
		{"changed", "lddw %r1, 0x1000\nadd %r1, 0\ncall 1\nexit", nil},
		{"loaded", "lddw %r1, 0x1000\nldxdw %r1, [%r10-8]\ncall 1\nexit", nil},
		{"clobbered by a call", "lddw %r1, 0x1000\ncall 2\ncall 1\nexit", nil},
		{"clobbered by callx", "lddw %r1, 0x1000\ncall %r2\ncall 1\nexit", nil},
		{"clobbered by a packet load", "lddw %r1, 0x1000\nldabsb 0\ncall 1\nexit", nil},
		{"atomic fetch into it", "lddw %r1, 0x1000\nlock fetch add [%r10-8], %r1\ncall 1\nexit", nil},
		{"cmpxchg and r0", "lddw %r0, 0x1000\nlock cmpxchg [%r10-8], %r2\nmov %r1, %r0\ncall 1\nexit", nil},
		{"xchg", "lddw %r1, 0x1000\nlock xchg [%r10-8], %r1\ncall 1\nexit", nil},
		{"plain atomic", "lddw %r1, 0x1000\nlock add [%r10-8], %r1\ncall 1\nexit", map[int]uint64{3: 0x1000}},
		{"each call", "lddw %r6, 0x1000\nmov %r1, %r6\ncall 1\nmov %r1, %r6\ncall 1\nexit", map[int]uint64{3: 0x1000, 5: 0x1000}},
		{"loop", `
			lddw %r6, 0x1000
			mov %r7, 10
		loop:
			mov %r1, %r6
			call 1
			sub %r7, 1
			jne %r7, 0, loop
			exit`, map[int]uint64{4: 0x1000}},
		{"changed in the loop", `
			lddw %r6, 0x1000
			mov %r7, 10
		loop:
			mov %r1, %r6
			call 1
			lddw %r6, 0x2000
			sub %r7, 1
			jne %r7, 0, loop
			exit`, nil},
		{"same on both paths", `
			jeq %r1, 0, else
			lddw %r6, 0x1000
			ja join
		else:
			lddw %r6, 0x1000
		join:
			mov %r1, %r6
			call 1
			exit`, map[int]uint64{7: 0x1000}},
		{"different on two paths", `
			lddw %r6, 0x1000
			jeq %r1, 0, join
			lddw %r6, 0x2000
		join:
			mov %r1, %r6
			call 1
			exit`, nil},
		{"kept across a local call", `
			lddw %r6, 0x1000
			lddw %r1, 0x3000
			call local f
			mov %r1, %r6
			call 1
			exit
		f:
			lddw %r6, 0x2000
			exit`, map[int]uint64{6: 0x1000}},
		{"r1 across a local call", "lddw %r1, 0x1000\ncall local f\ncall 1\nexit\nf:\nexit", nil},
		{"unknown in a function", `
			lddw %r1, 0x1000
			call local f
			exit
		f:
			call 1
			exit`, nil},
		{"unknown in a callback", `
			lddw %r1, 0x1000
			lddw %r2, 0
			.raw 18010000fb000000 # patched below
			exit
		cb:
			call 1
			exit`, nil},
		{"unreachable", "exit\nlddw %r1, 0x1000\ncall 1\nexit", nil},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tt.name == "unknown in a callback" { // lddw %r2, cb with source form 4
			prog[2] = isa.Instruction{Opcode: isa.OpLoadImm64, Dst: isa.R2, Src: isa.PseudoFunc, Imm: 3}
		}
		c := &compiler{prog: prog, leader: make([]bool, len(prog)+1), start: make([]int32, len(prog)), helperIndex: map[int32]int32{}, funcs: map[int]bool{}}
		h := func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) { return 0, nil }
		if err := c.scan(&vm.Program{Instructions: prog, Helpers: vm.Helpers{1: h, 2: h}}); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := c.constantArgs(1)
		if len(got) == 0 {
			got = nil
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
