package verifier

import (
	"maps"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestBTFHelperArgs: a helper argument that must point to a kernel struct
// (bpf_task_pt_regs's task_struct, 175) takes a BTF pointer to that struct,
// or to a struct holding it at the pointer's offset, and nothing else; and
// bpf_task_pt_regs returns a pointer to the task's struct pt_regs.
// Each accepted case was refused before btfarg.go ("takes a btf_id
// argument, which bpfhost does not support"); the Linux verdicts of real
// programs (bpf_seq_printf in iterators) are in TestKernelSource.
func TestBTFHelperArgs(t *testing.T) {
	// struct holder { u64 x; struct task_struct task; } (15), and the
	// program's argument h, a struct holder *.
	types := maps.Clone(testKernel)
	types[15] = &platform.KernelType{Kind: platform.KernelStruct, Name: "holder", Size: 24, Members: []platform.KernelMember{
		{Name: "x", Type: 2}, {Name: "task", Type: 13, BitOffset: 64}}}
	types[16] = &platform.KernelType{Kind: platform.KernelStruct, Name: "pt_regs", Size: 16, Members: []platform.KernelMember{
		{Name: "ip", Type: 2}, {Name: "sp", Type: 2, BitOffset: 64}}}
	fentry, ok := linux.Lookup("fentry/f")
	if !ok {
		t.Fatal("no fentry type")
	}
	info := *fentry
	info.Context = platform.BTFArgsContext("fentry/f", []platform.BTFArg{
		{Name: "h", Pointee: platform.BTFPointee{Type: 15}},
		{Name: "n"},
		{Name: "m", Pointee: platform.BTFPointee{Type: 13, MaybeNull: true}},
	})
	for _, c := range []struct {
		name, text string
		accept     bool
	}{
		{"the current task", "call 158\nmov %r1, %r0\ncall 175\nmov %r0, 0\nexit", true},
		{"a task nested in the argument", "ldxdw %r1, [%r1+0]\nadd %r1, 8\ncall 175\nmov %r0, 0\nexit", true},
		{"a task's parent, loaded through it", "call 158\nldxdw %r1, [%r0+8]\ncall 175\nmov %r0, 0\nexit", true},
		{"the holder itself is not a task", "ldxdw %r1, [%r1+0]\ncall 175\nmov %r0, 0\nexit", false},
		{"a task at the wrong offset", "call 158\nmov %r1, %r0\nadd %r1, 8\ncall 175\nmov %r0, 0\nexit", false},
		{"inside the holder, past the task's start", "ldxdw %r1, [%r1+0]\nadd %r1, 12\ncall 175\nmov %r0, 0\nexit", false},
		{"a task at a variable offset", "ldxdw %r2, [%r1+8]\nand %r2, 8\nldxdw %r1, [%r1+0]\nadd %r1, %r2\ncall 175\nmov %r0, 0\nexit", false},
		{"a maybe-NULL task, unchecked", "ldxdw %r1, [%r1+16]\ncall 175\nmov %r0, 0\nexit", false},
		{"a maybe-NULL task, checked", "ldxdw %r1, [%r1+16]\njeq %r1, 0, out\ncall 175\nout:\nmov %r0, 0\nexit", true},
		{"a number", "mov %r1, 4096\ncall 175\nmov %r0, 0\nexit", false},
		{"a stack pointer", "mov %r1, %r10\nadd %r1, -8\nstdw [%r10-8], 0\ncall 175\nmov %r0, 0\nexit", false},
		// What it returns: a pt_regs, never NULL, read as Linux reads it.
		{"the task's registers read", "call 158\nmov %r1, %r0\ncall 175\nldxdw %r0, [%r0+8]\nmov %r0, 0\nexit", true},
		{"the task's registers read past their end", "call 158\nmov %r1, %r0\ncall 175\nldxdw %r0, [%r0+16]\nmov %r0, 0\nexit", false},
	} {
		prog, err := isa.Assemble(c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_, err = Verify(prog, Options{Type: &info, ABI: linux.ABI(), KernelTypes: types})
		if (err == nil) != c.accept {
			t.Errorf("%s: %v, want accepted %v", c.name, err, c.accept)
		}
	}
	// Without the kernel's types, nothing can be checked.
	prog, _ := isa.Assemble("call 158\nmov %r1, %r0\ncall 175\nmov %r0, 0\nexit")
	if _, err := Verify(prog, Options{Type: &info, ABI: linux.ABI()}); err == nil {
		t.Error("accepted without kernel types")
	}
}
