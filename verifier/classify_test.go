package verifier

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestClassify covers the context accesses of the pass for unverified
// programs.
func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []int
		err  string
	}{
		{"direct loads", "ldxw %r2, [%r1]\nldxw %r3, [%r1+4]\nmov %r0, 0\nexit",
			[]int{0, 1}, ""},
		{"copy", "mov %r6, %r1\nldxw %r0, [%r6+16]\nexit", []int{1}, ""},
		{"store", "stw [%r1+8], 7\nmov %r2, 1\nstxw [%r1+12], %r2\nmov %r0, 0\nexit", []int{0, 2}, ""},
		{"spill and fill", "stxdw [%r10-8], %r1\nmov %r1, 0\nldxdw %r7, [%r10-8]\nldxb %r0, [%r7+3]\nexit", []int{3}, ""},
		{"overwritten spill", "stxdw [%r10-8], %r1\nstw [%r10-8], 0\nldxdw %r7, [%r10-8]\nldxb %r0, [%r10-1]\nexit", nil, ""},
		{"helper clobbers r1", "mov %r6, %r1\ncall 1\nldxw %r0, [%r6]\nexit", []int{2}, ""},
		{"r1 after a call is not the context", "call 1\nmov %r2, %r10\nadd %r2, -8\nmov %r1, %r2\nstdw [%r1], 0\nmov %r0, 0\nexit", nil, ""},
		{"callee gets the context", "mov %r2, %r1\nmov %r1, 0\ncall local f\nexit\nf:\nldxw %r0, [%r2+4]\nexit", []int{4}, ""},
		{"both paths", "jeq %r2, 0, +1\nmov %r6, %r1\nmov %r6, %r1\nldxw %r0, [%r6]\nexit", []int{3}, ""},
		{"mixed paths", "mov %r6, %r10\nadd %r6, -8\nstdw [%r6], 0\njeq %r2, 0, +1\nmov %r6, %r1\nldxw %r0, [%r6]\nexit", nil, "instruction 5: r6 is the context pointer on some paths only"},
		{"modified pointer", "add %r1, 4\nldxw %r0, [%r1]\nexit", nil, "instruction 1: dereference of modified context pointer r1"},
		{"loop keeps the pointer", "mov %r6, %r1\nmov %r7, 3\nl:\nldxw %r0, [%r6+4]\nsub %r7, 1\njne %r7, 0, l\nexit", []int{2}, ""},
		{"overwriting the context register", "mov %r6, %r1\nmov %r1, 0\nmov %r2, %r10\nadd %r2, -8\nstdw [%r2], 0\nldxw %r0, [%r6+16]\nexit", []int{5}, ""},
		{"32-bit copy is not the context", "mov32 %r2, %r1\nmov %r0, 0\nexit", nil, ""},
		{"atomic on the context", "mov %r2, 1\nlock add [%r1], %r2\nmov %r0, 0\nexit", nil, "atomic operation on the context"},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		res, err := Classify(prog, linux.ABI())
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := res.ContextAccesses; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestClassifyFacts covers the other facts of the pass for unverified
// programs: tail calls from any call of bpf_tail_call or callx, and no map
// arguments known.
func TestClassifyFacts(t *testing.T) {
	tests := []struct {
		src  string
		tail bool
	}{
		{"lddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nexit", false},
		{"mov %r3, 0\ncall 12\nmov %r0, 0\nexit", true},
		{"ja +1\ncall 12\nmov %r0, 0\nexit", true}, // unreachable: Classify cannot tell
		{"mov %r0, 12\ncall 5 # callx %r0 below\nexit", true},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		if strings.Contains(tt.src, "callx") {
			prog[1] = isa.Instruction{Opcode: isa.OpCallX, Dst: isa.R0}
		}
		res, err := Classify(prog, linux.ABI())
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		if res.TailCalls != tt.tail {
			t.Errorf("%q: TailCalls %v, want %v", tt.src, res.TailCalls, tt.tail)
		}
		if len(res.MapArgs) != len(prog) || slices.ContainsFunc(res.MapArgs, func(i int) bool { return i != -1 }) {
			t.Errorf("%q: MapArgs %v, want -1 for each slot", tt.src, res.MapArgs)
		}
	}
	if _, err := Classify([]isa.Instruction{{Opcode: isa.OpExit}}, nil); err == nil {
		t.Error("Classify without an ABI: no error")
	}
}
