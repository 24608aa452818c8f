package platform

import (
	"errors"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
)

// hostedCtx is testCtx with a host layout that widens the pointers and moves
// the scalars.
func hostedCtx() *ContextDescriptor {
	d := testCtx()
	d.Host = &HostLayout{Name: "testHost", Size: 56, Fields: []HostField{
		{Name: "data", Offset: 0, Size: 8},
		{Name: "data_end", Offset: 8, Size: 8},
		{Name: "mark", Offset: 20, Size: 4},
		{Name: "cb", Offset: 28, Size: 18},
		{Name: "flags", Offset: 46, Size: 2},
		{Name: "port", Offset: 48, Size: 4},
		{Name: "ifindex", Offset: 16, Size: 4},
	}}
	return d
}

func mustAssemble(t *testing.T, src string) []isa.Instruction {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatalf("assemble %q: %v", src, err)
	}
	return prog
}

func TestRewriteInstruction(t *testing.T) {
	d := hostedCtx()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"ldxw %r2, [%r1+0]", "ldxdw %r2, [%r1+0]"},
		{"ldxw %r3, [%r1+4]", "ldxdw %r3, [%r1+8]"},
		{"ldxw %r2, [%r1+8]", "ldxw %r2, [%r1+20]"},
		{"ldxb %r2, [%r1+9]", "ldxb %r2, [%r1+21]"},
		{"ldxh %r2, [%r1+10]", "ldxh %r2, [%r1+22]"},
		{"stxw [%r1+8], %r4", "stxw [%r1+20], %r4"},
		{"stw [%r1+8], 7", "stw [%r1+20], 7"},
		{"ldxdw %r2, [%r1+16]", "ldxdw %r2, [%r1+32]"},
		{"stxb [%r1+29], %r2", "stxb [%r1+45], %r2"},
		{"ldxh %r2, [%r1+30]", "ldxh %r2, [%r1+46]"},
		{"ldxw %r2, [%r1+32]", "ldxw %r2, [%r1+48]"},
		{"ldxb %r2, [%r1+33]", "ldxb %r2, [%r1+49]"},
		{"ldxw %r2, [%r1+36]", "ldxw %r2, [%r1+16]"},
	}
	for _, tt := range tests {
		in := mustAssemble(t, tt.in)
		want := mustAssemble(t, tt.want)
		got, err := RewriteInstruction(in[0], d)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got != want[0] {
			t.Errorf("%s: got %s, want %s", tt.in, got.Text(), tt.want)
		}
	}
}

func TestRewriteErrors(t *testing.T) {
	d := hostedCtx()
	tests := []struct {
		in   string
		want error
	}{
		{"ldxw %r2, [%r1+2]", ErrContextAccess},
		{"stxw [%r1+0], %r2", ErrContextAccess},
		{"ldxdw %r2, [%r1+8]", ErrContextAccess},
		{"lock add [%r1+8], %r2", ErrRewrite},
		{"add %r1, 4", ErrRewrite},
		{"ldxsw %r2, [%r1+0]", ErrRewrite},
	}
	for _, tt := range tests {
		in := mustAssemble(t, tt.in)
		if _, err := RewriteInstruction(in[0], d); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.in, err, tt.want)
		}
	}
	// Sign-extending loads of scalar fields keep their width and move.
	in := mustAssemble(t, "ldxsh %r2, [%r1+8]")
	got, err := RewriteInstruction(in[0], d)
	if err != nil || got.Offset != 20 || got.Opcode != in[0].Opcode {
		t.Errorf("ldxsh: got %s, %v", got.Text(), err)
	}

	unhosted := testCtx()
	if _, err := Rewrite(in, unhosted, []int{0}); !errors.Is(err, ErrNotHosted) {
		t.Errorf("unhosted: err = %v, want ErrNotHosted", err)
	}
	if _, err := Rewrite(in, d, []int{1}); !errors.Is(err, ErrRewrite) {
		t.Errorf("index out of range: err = %v, want ErrRewrite", err)
	}
}

func TestRewriteProgram(t *testing.T) {
	d := hostedCtx()
	prog := mustAssemble(t, `
		ldxw %r2, [%r1+0]
		ldxw %r3, [%r1+4]
		mov %r4, %r2
		add %r4, 14
		jgt %r4, %r3, out
		ldxb %r0, [%r2+12]
		stxw [%r1+8], %r0
		exit
	out:
		mov %r0, 0
		exit`)
	got, err := Rewrite(prog, d, []int{0, 1, 6, 0})
	if err != nil {
		t.Fatal(err)
	}
	want := mustAssemble(t, `
		ldxdw %r2, [%r1+0]
		ldxdw %r3, [%r1+8]
		mov %r4, %r2
		add %r4, 14
		jgt %r4, %r3, out
		ldxb %r0, [%r2+12]
		stxw [%r1+20], %r0
		exit
	out:
		mov %r0, 0
		exit`)
	if len(got) != len(want) {
		t.Fatalf("got %d instructions, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("instruction %d: got %s, want %s", i, got[i].Text(), want[i].Text())
		}
	}
	// The input is not modified.
	if prog[0].Opcode.Size() != isa.SizeW {
		t.Error("Rewrite modified its input")
	}
}
