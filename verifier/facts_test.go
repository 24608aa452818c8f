package verifier

import (
	"reflect"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// factsMaps are the maps of TestResultFacts's programs: "lddw %rN, mapK"
// in their source loads map K.
var factsMaps = []MapInfo{
	{Name: "a", Type: linux.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 4},
	{Name: "b", Type: linux.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 4},
	{Name: "progs", Type: linux.MapProgArray, KeySize: 4, ValueSize: 4, MaxEntries: 4},
	{Name: "outer", Type: linux.MapArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4,
		Inner: &MapInfo{Name: "inner", Type: linux.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 4}},
}

// assembleMaps assembles src, turning the lddw of an immediate K into the
// lddw of map K.
func assembleMaps(t *testing.T, src string) []isa.Instruction {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	for pc := range prog {
		if prog[pc].IsLoadImm64() && pc+1 < len(prog) {
			prog[pc].Src = isa.PseudoMapIdx
			pc++
		}
	}
	return prog
}

// TestResultFacts checks the facts Verify records beside its proof: the
// map behind each helper call's map argument (Result.MapArgs) and whether
// tail calls happen (Result.TailCalls).
func TestResultFacts(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		calls map[int]int // pc -> map index; every other pc -1
		tail  bool
	}{
		{"one map", "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, 1\ncall 1\nmov %r0, 0\nexit",
			map[int]int{5: 1}, false},
		{"copied through registers and the stack", `
			lddw %r6, 0
			stxdw [%r10-16], %r6
			stw [%r10-4], 0
			mov %r2, %r10
			add %r2, -4
			ldxdw %r1, [%r10-16]
			call 1
			mov %r0, 0
			exit`, map[int]int{7: 0}, false},
		{"a different map on each path", `
			ldxw %r3, [%r1+16] # ingress_ifindex: a number
			lddw %r1, 0
			jeq %r3, 0, +2
			lddw %r1, 1
			stw [%r10-4], 0
			mov %r2, %r10
			add %r2, -4
			call 1
			mov %r0, 0
			exit`, nil, false},
		{"the same map on each path", `
			ldxw %r3, [%r1+16] # ingress_ifindex: a number
			lddw %r1, 0
			jeq %r3, 0, +2
			lddw %r1, 0
			stw [%r10-4], 0
			mov %r2, %r10
			add %r2, -4
			call 1
			mov %r0, 0
			exit`, map[int]int{9: 0}, false},
		{"a function called with two maps", `
			lddw %r1, 0
			call local f
			lddw %r1, 1
			call local f
			mov %r0, 0
			exit
		f:
			stw [%r10-4], 0
			mov %r2, %r10
			add %r2, -4
			call 1
			mov %r0, 0
			exit`, nil, false},
		{"a function called with one map twice", `
			lddw %r1, 1
			call local f
			lddw %r1, 1
			call local f
			mov %r0, 0
			exit
		f:
			stw [%r10-4], 0
			mov %r2, %r10
			add %r2, -4
			call 1
			mov %r0, 0
			exit`, map[int]int{11: 1}, false},
		{"a map from a map-in-map is known at run time only", `
			stw [%r10-4], 0
			mov %r2, %r10
			add %r2, -4
			lddw %r1, 3
			call 1
			jeq %r0, 0, +4
			mov %r1, %r0
			mov %r2, %r10
			add %r2, -4
			call 1
			mov %r0, 0
			exit`, map[int]int{5: 3}, false},
		{"a tail call", "lddw %r2, 2\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit", map[int]int{3: 2}, true},
	}
	info, _ := linux.Lookup("xdp")
	for _, tt := range tests {
		prog := assembleMaps(t, tt.src)
		res, err := Verify(prog, Options{Name: tt.name, Type: info, ABI: linux.ABI(), Maps: factsMaps})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		want := make([]int, len(prog))
		for pc := range want {
			want[pc] = -1
		}
		for pc, m := range tt.calls {
			want[pc] = m
		}
		if !reflect.DeepEqual(res.MapArgs, want) {
			t.Errorf("%s: MapArgs %v, want %v", tt.name, res.MapArgs, want)
		}
		if res.TailCalls != tt.tail {
			t.Errorf("%s: TailCalls %v, want %v", tt.name, res.TailCalls, tt.tail)
		}
	}
}
