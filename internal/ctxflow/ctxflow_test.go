package ctxflow

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
)

func TestFind(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Access
		err  string
	}{
		{"direct loads", "ldxw %r2, [%r1]\nldxw %r3, [%r1+4]\nmov %r0, 0\nexit",
			[]Access{{0, 0, 4, false}, {1, 4, 4, false}}, ""},
		{"copy", "mov %r6, %r1\nldxw %r0, [%r6+16]\nexit", []Access{{1, 16, 4, false}}, ""},
		{"store", "stw [%r1+8], 7\nmov %r2, 1\nstxw [%r1+12], %r2\nmov %r0, 0\nexit", []Access{{0, 8, 4, true}, {2, 12, 4, true}}, ""},
		{"spill and fill", "stxdw [%r10-8], %r1\nmov %r1, 0\nldxdw %r7, [%r10-8]\nldxb %r0, [%r7+3]\nexit", []Access{{3, 3, 1, false}}, ""},
		{"overwritten spill", "stxdw [%r10-8], %r1\nstw [%r10-8], 0\nldxdw %r7, [%r10-8]\nldxb %r0, [%r10-1]\nexit", nil, ""},
		{"helper clobbers r1", "mov %r6, %r1\ncall 1\nldxw %r0, [%r6]\nexit", []Access{{2, 0, 4, false}}, ""},
		{"r1 after a call is not the context", "call 1\nmov %r2, %r10\nadd %r2, -8\nmov %r1, %r2\nstdw [%r1], 0\nmov %r0, 0\nexit", nil, ""},
		{"callee gets the context", "mov %r2, %r1\nmov %r1, 0\ncall local f\nexit\nf:\nldxw %r0, [%r2+4]\nexit", []Access{{4, 4, 4, false}}, ""},
		{"both paths", "jeq %r2, 0, +1\nmov %r6, %r1\nmov %r6, %r1\nldxw %r0, [%r6]\nexit", []Access{{3, 0, 4, false}}, ""},
		{"mixed paths", "mov %r6, %r10\nadd %r6, -8\nstdw [%r6], 0\njeq %r2, 0, +1\nmov %r6, %r1\nldxw %r0, [%r6]\nexit", nil, "instruction 5: r6 is the context pointer on some paths only"},
		{"modified pointer", "add %r1, 4\nldxw %r0, [%r1]\nexit", nil, "instruction 1: dereference of modified context pointer r1"},
		{"loop keeps the pointer", "mov %r6, %r1\nmov %r7, 3\nl:\nldxw %r0, [%r6+4]\nsub %r7, 1\njne %r7, 0, l\nexit", []Access{{2, 4, 4, false}}, ""},
		{"overwriting the context register", "mov %r6, %r1\nmov %r1, 0\nmov %r2, %r10\nadd %r2, -8\nstdw [%r2], 0\nldxw %r0, [%r6+16]\nexit", []Access{{5, 16, 4, false}}, ""},
		{"32-bit copy is not the context", "mov32 %r2, %r1\nmov %r0, 0\nexit", nil, ""},
		{"atomic on the context", "mov %r2, 1\nlock add [%r1], %r2\nmov %r0, 0\nexit", nil, "atomic operation on the context"},
	}
	for _, tt := range tests {
		prog, err := isa.Assemble(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := Find(prog)
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
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
