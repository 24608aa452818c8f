package verifier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/bpfhost/bpfhost/internal/oracle"
	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform"
	"github.com/bpfhost/bpfhost/platform/linux"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

// fakeTypes is a kernel type table for tests, by ID.
type fakeTypes map[uint32]*platform.KernelType

func (f fakeTypes) KernelType(id uint32) (*platform.KernelType, error) {
	if t, ok := f[id]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("no type %d", id)
}

func (f fakeTypes) StructID(name string) (uint32, error) {
	for id, t := range f {
		if t.Kind == platform.KernelStruct && t.Name == name {
			return id, nil
		}
	}
	return 0, fmt.Errorf("no struct %s", name)
}

// testKernel has a struct obj with the shapes btf_struct_walk handles:
//
//	struct inner { int a; int b; };               // 4, 8 bytes
//	union u { int x; u64 y; };                    // 5, 8 bytes
//	struct small { int a; };                      // 11, 4 bytes
//	struct obj {                                  // 8, 80 bytes
//		int id;                  // 0
//		u32 flags:3;             // bit 32
//		struct inner in;         // 8
//		union u un;              // 16
//		struct inner arr[4];     // 24
//		struct obj *next;        // 56
//		char *name;              // 64
//		struct small *sp;        // 72
//		char tail[];             // 80
//	};
var testKernel = fakeTypes{
	1: {Kind: platform.KernelInt, Name: "int", Size: 4},
	2: {Kind: platform.KernelInt, Name: "u64", Size: 8},
	3: {Kind: platform.KernelInt, Name: "char", Size: 1},
	4: {Kind: platform.KernelStruct, Name: "inner", Size: 8, Members: []platform.KernelMember{
		{Name: "a", Type: 1}, {Name: "b", Type: 1, BitOffset: 32}}},
	5: {Kind: platform.KernelUnion, Name: "u", Size: 8, Members: []platform.KernelMember{
		{Name: "x", Type: 1}, {Name: "y", Type: 2}}},
	6: {Kind: platform.KernelArray, Size: 32, Target: 4, Len: 4},
	7: {Kind: platform.KernelPointer, Size: 8, Target: 8},
	8: {Kind: platform.KernelStruct, Name: "obj", Size: 80, Members: []platform.KernelMember{
		{Name: "id", Type: 1},
		{Name: "flags", Type: 1, BitOffset: 32, BitSize: 3},
		{Name: "in", Type: 4, BitOffset: 64},
		{Name: "un", Type: 5, BitOffset: 128},
		{Name: "arr", Type: 6, BitOffset: 192},
		{Name: "next", Type: 7, BitOffset: 448},
		{Name: "name", Type: 9, BitOffset: 512},
		{Name: "sp", Type: 12, BitOffset: 576},
		{Name: "tail", Type: 10, BitOffset: 640},
	}},
	9:  {Kind: platform.KernelPointer, Size: 8, Target: 3},
	10: {Kind: platform.KernelArray, Size: 0, Target: 3},
	11: {Kind: platform.KernelStruct, Name: "small", Size: 4, Members: []platform.KernelMember{{Name: "a", Type: 1}}},
	12: {Kind: platform.KernelPointer, Size: 8, Target: 11},
	13: {Kind: platform.KernelStruct, Name: "task_struct", Size: 16, Members: []platform.KernelMember{
		{Name: "pid", Type: 1}, {Name: "parent", Type: 14, BitOffset: 64}}},
	14: {Kind: platform.KernelPointer, Size: 8, Target: 13},
}

// btfTestType is fentry with args (struct obj *o, u64 n, struct obj *maybe
// NULL).
func btfTestType(t testing.TB) *platform.ProgramTypeInfo {
	t.Helper()
	fentry, ok := linux.Lookup("fentry/f")
	if !ok {
		t.Fatal("no fentry type")
	}
	info := *fentry
	info.Context = platform.BTFArgsContext("fentry/f", []platform.BTFArg{
		{Name: "o", Pointee: platform.BTFPointee{Type: 8}},
		{Name: "n"},
		{Name: "m", Pointee: platform.BTFPointee{Type: 8, MaybeNull: true}},
		{Name: "bad", Opaque: true},
	})
	if err := info.Context.Validate(); err != nil {
		t.Fatal(err)
	}
	return &info
}

func verifyBTF(t *testing.T, src string, types platform.KernelTypes) (*Result, error) {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return Verify(prog, Options{Type: btfTestType(t), ABI: linux.ABI(), KernelTypes: types})
}

// TestBTFPointerAccess: reads through BTF-typed kernel pointers follow
// Linux's btf_struct_access; each case names the rule it checks.
func TestBTFPointerAccess(t *testing.T) {
	const obj = "ldxdw %r2, [%r1+0]\n" // r2 = args[0], a struct obj
	const end = "mov %r0, 0\nexit\n"
	tests := []struct {
		name, src, reject string
	}{
		{"scalar member", obj + "ldxw %r3, [%r2+0]\n" + end, ""},
		{"nested struct member", obj + "ldxw %r3, [%r2+12]\n" + end, ""},
		{"nested struct read whole (Linux walks into its first member)", obj + "ldxdw %r3, [%r2+8]\n" + end, "ends past member a"},
		{"union member", obj + "ldxw %r3, [%r2+16]\n" + end, ""},
		{"array element member", obj + "ldxw %r3, [%r2+44]\n" + end, ""},
		{"covering read of a bitfield", obj + "ldxw %r3, [%r2+4]\n" + end, ""},
		{"pointer member then its pointee", obj + "ldxdw %r3, [%r2+56]\nldxw %r4, [%r3+0]\nldxdw %r5, [%r3+56]\nldxw %r4, [%r5+4]\n" + end, ""},
		{"pointer to char reads a number", obj + "ldxdw %r3, [%r2+64]\nldxb %r4, [%r3+0]\n" + end, "which is a number"},
		{"part of a pointer member", obj + "ldxw %r3, [%r2+56]\n" + end, "only all 8 bytes of pointer member next"},
		{"flexible array at the end", obj + "ldxdw %r3, [%r2+96]\n" + end, ""},
		{"beyond a struct", obj + "ldxdw %r3, [%r2+72]\nldxw %r4, [%r3+4]\n" + end, "ends past the 4 bytes of struct small"},
		{"hole", obj + "ldxb %r3, [%r2+6]\n" + end, "struct obj has no member at offset 6"},
		{"write", obj + "stw [%r2+0], 1\n" + end, "only reads are allowed"},
		{"store of a register", obj + "mov %r3, 1\nstxw [%r2+0], %r3\n" + end, "only reads are allowed"},
		{"atomic", obj + "mov %r3, 1\nlock add32 [%r2+0], %r3\n" + end, "only reads are allowed"},
		{"constant offset added", obj + "add %r2, 8\nldxw %r3, [%r2+4]\n" + end, ""},
		{"variable offset", obj + "ldxdw %r3, [%r1+8]\nand %r3, 7\nadd %r2, %r3\nldxb %r4, [%r2+0]\n" + end, "variable offset"},
		{"negative offset", obj + "ldxw %r3, [%r2-4]\n" + end, "negative offsets"},
		{"NULL check allowed", obj + "jeq %r2, 0, out\nldxw %r3, [%r2+0]\nout:\n" + end, ""},
		// A BTF pointer may be NULL whatever the verifier knows: the
		// branch where it is NULL is analysed (its bad read is found).
		{"NULL branch is live", obj + "jne %r2, 0, out\nldxdw %r3, [%r10+8]\nout:\n" + end, "outside the 512-byte frame"},
		{"maybe-NULL argument unchecked", "ldxdw %r2, [%r1+16]\nldxw %r3, [%r2+0]\n" + end, "may be NULL"},
		{"maybe-NULL argument checked", "ldxdw %r2, [%r1+16]\njeq %r2, 0, out\nldxw %r3, [%r2+0]\nout:\n" + end, ""},
		{"number argument", "ldxdw %r2, [%r1+8]\nldxw %r3, [%r2+0]\n" + end, "which is a number"},
		{"unreadable argument", "ldxdw %r2, [%r1+24]\n" + end, "context access not allowed"},
		{"narrow read of a pointer argument", "ldxw %r2, [%r1+0]\n" + end, "context access not allowed"},
		{"spilled and reloaded", obj + "stxdw [%r10-8], %r2\nldxdw %r3, [%r10-8]\nldxw %r4, [%r3+0]\n" + end, ""},
		{"source of bpf_probe_read_kernel", obj + "mov %r3, %r2\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 113\n" + end, ""},
		{"bounded by the member size", obj + "ldxb %r3, [%r2+0]\njle %r3, 255, out\nldxdw %r0, [%r10-8]\nout:\n" + end, ""},
		// Linux: "same insn cannot be used with different pointers".
		{"one load, a BTF pointer or the stack", obj + "stdw [%r10-8], 0\nldxdw %r3, [%r1+8]\njeq %r3, 0, load\nmov %r2, %r10\nadd %r2, -8\nload:\nldxw %r4, [%r2+0]\n" + end, "kernel (BTF) pointer on some paths and other memory on others"},
		{"bpf_get_current_task_btf", "call 158\nldxdw %r2, [%r0+8]\nldxw %r3, [%r2+0]\n" + end, ""},
		{"past the task", "call 158\nldxw %r3, [%r0+16]\n" + end, "ends past the 16 bytes of struct task_struct"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyBTF(t, tc.src, testKernel)
			checkVerdict(t, tc.name, err, tc.reject)
		})
	}
}

// TestBTFPointerWithoutTypes: without kernel types, a BTF pointer field
// loads a pointer that cannot be read through (as before this kind), and
// bpf_get_current_task_btf's result neither.
func TestBTFPointerWithoutTypes(t *testing.T) {
	_, err := verifyBTF(t, "ldxdw %r2, [%r1+0]\nldxw %r3, [%r2+0]\nmov %r0, 0\nexit\n", nil)
	checkVerdict(t, "field", err, "opaque")
	_, err = verifyBTF(t, "call 158\nldxw %r3, [%r0+0]\nmov %r0, 0\nexit\n", nil)
	checkVerdict(t, "helper", err, "NULL")
}

// TestBTFProbeLoads: Result.ProbeLoads lists exactly the loads through BTF
// pointers, not the context or stack loads.
func TestBTFProbeLoads(t *testing.T) {
	res, err := verifyBTF(t, "ldxdw %r2, [%r1+0]\nstxdw [%r10-8], %r2\nldxdw %r3, [%r10-8]\nldxdw %r4, [%r3+56]\nldxw %r5, [%r4+0]\nmov %r0, 0\nexit\n", testKernel)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{3, 4}; !slices.Equal(res.ProbeLoads, want) {
		t.Errorf("ProbeLoads %v, want %v", res.ProbeLoads, want)
	}
	if want := []int{0}; !slices.Equal(res.ContextAccesses, want) {
		t.Errorf("ContextAccesses %v, want %v", res.ContextAccesses, want)
	}
}

// TestBTFPointerAsNumber: what Linux allows a privileged program to do with
// a kernel pointer, as with a number, bpfhost allows with a BTF pointer,
// whose value is no host address (the kernel accepts each of these in a
// tp_btf program).
func TestBTFPointerAsNumber(t *testing.T) {
	const obj = "ldxdw %r2, [%r1+0]\nldxdw %r3, [%r1+16]\n" // two struct obj pointers
	const end = "mov %r0, 0\nexit\n"
	tests := []struct {
		name, src, reject string
	}{
		{"narrow read of a number argument at its start", "ldxw %r2, [%r1+8]\n" + end, ""},
		{"narrow read inside a number argument", "ldxw %r2, [%r1+12]\n" + end, "not a multiple of 8"},
		{"difference of two", obj + "sub %r2, %r3\n" + end, ""},
		{"32-bit move", obj + "mov32 %r4, %r2\n" + end, ""},
		{"ordered comparison", obj + "jgt %r2, 5, out\nout:\n" + end, ""},
		{"stored in the stack and passed as a key-like buffer", obj + "stxdw [%r10-8], %r2\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 8\nmov %r3, %r10\nadd %r3, -8\ncall 113\n" + end, ""},
		{"bitwise and", obj + "and %r2, -8\n" + end, "not allowed"},
		{"32-bit arithmetic", obj + "add32 %r2, 8\n" + end, "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyBTF(t, tc.src, testKernel)
			checkVerdict(t, tc.name, err, tc.reject)
		})
	}
}

// TestCOREPoisonDeadCode: a CO-RE relocation without a target becomes a
// call of an unknown helper (object.COREPoison, as libbpf does): refused
// where it can run, accepted behind a branch that constants decide
// (bpf_core_field_exists), as in Linux.
func TestCOREPoisonDeadCode(t *testing.T) {
	_, err := verifyBTF(t, "mov %r2, 1\njeq %r2, 1, out\ncall 195896080\nout:\nmov %r0, 0\nexit\n", testKernel)
	checkVerdict(t, "dead", err, "")
	_, err = verifyBTF(t, "mov %r2, 0\njeq %r2, 1, out\ncall 195896080\nout:\nmov %r0, 0\nexit\n", testKernel)
	checkVerdict(t, "live", err, "195896080")
}

// btfSeeds are programs on btfTestType's context for FuzzBTFPointers.
var btfSeeds = []string{
	"ldxdw %r2, [%r1+0]\nldxdw %r3, [%r2+56]\nldxw %r4, [%r3+4]\njgt %r4, 5, out\nldxdw %r3, [%r3+56]\nout:\nmov %r0, 0\nexit\n",
	"ldxdw %r2, [%r1+16]\njeq %r2, 0, out\nldxb %r4, [%r2+44]\nstxdw [%r10-8], %r4\nout:\nmov %r0, 0\nexit\n",
	"ldxdw %r2, [%r1+0]\njne %r2, 0, go\nmov %r0, 0\nexit\ngo:\nadd %r2, 8\nldxdw %r3, [%r2+64]\nstxdw [%r10-8], %r3\nldxdw %r4, [%r10-8]\nmov %r0, 0\nexit\n",
	"ldxdw %r2, [%r1+0]\nldxw %r3, [%r2+4]\njgt %r3, 7, out\nldxdw %r2, [%r2+56]\nldxdw %r4, [%r2+96]\nout:\nmov %r0, 0\nexit\n",
}

// FuzzBTFPointers verifies arbitrary programs on a context of BTF pointers
// (btfTestType, testKernel) and runs the accepted ones in the checked
// interpreter with their loads through BTF pointers probing: with wild,
// NULL and in-memory arguments, no run may fault, and every step must lie
// in the verifier's states (containment). The seeds run with go test.
func FuzzBTFPointers(f *testing.F) {
	for _, src := range btfSeeds {
		prog, err := isa.Assemble(src)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := Verify(prog, Options{Type: btfTestType(f), ABI: linux.ABI(), KernelTypes: testKernel}); err != nil {
			f.Fatalf("seed rejected: %v", err)
		}
		f.Add(isa.Encode(prog), uint64(1))
	}
	f.Fuzz(func(t *testing.T, code []byte, seed uint64) {
		prog, err := isa.Decode(code)
		if err != nil || len(prog) > 512 || isa.Validate(prog) != nil {
			return
		}
		cont := &Containment{}
		res, err := Verify(prog, Options{Type: btfTestType(t), ABI: linux.ABI(), KernelTypes: testKernel, MaxIterations: 20000, Containment: cont})
		if err != nil {
			return
		}
		exe, err := interp.New().Compile(&vm.Program{Instructions: prog, ProbeLoads: res.ProbeLoads}, vm.CompileOptions{Mode: vm.Checked})
		if err != nil {
			return // calls a helper
		}
		rng := rand.New(rand.NewPCG(seed, 26))
		for range 8 {
			// The context (4 arguments) and a kernel object of 128 bytes
			// whose words point into it, at random, or are wild.
			ctx, obj := make([]byte, 32), make([]byte, 128)
			base := vm.Address(unsafe.Pointer(&obj[0]))
			for i := 0; i < len(obj); i += 8 {
				binary.LittleEndian.PutUint64(obj[i:], []uint64{rng.Uint64(), 0, base + uint64(rng.IntN(len(obj)))}[rng.IntN(3)])
			}
			for i := 0; i < len(ctx); i += 8 {
				binary.LittleEndian.PutUint64(ctx[i:], []uint64{rng.Uint64(), 0, base + uint64(rng.IntN(len(obj)))}[rng.IntN(3)])
			}
			rc := &vm.RunContext{Args: [5]uint64{vm.Address(unsafe.Pointer(&ctx[0]))}, Budget: 1 << 20,
				Regions: []vm.Region{vm.RegionOf("context", ctx, false), vm.RegionOf("object", obj, false)}}
			mem := &oracle.Memory{RC: rc, Context: rc.Args[0]}
			tr := &oracle.Tracker{Mem: mem, Insns: prog, Helper: linux.ABI().HelperByID}
			walk := cont.Walk()
			var contained error
			rc.Trace = func(_ vm.Executable, pc int, regs *[11]uint64) {
				if contained == nil {
					tr.Step(pc, regs, rc.Depth)
					contained = walk.Step(pc, concrete(mem, tr, regs))
				}
			}
			_, err := exe.Run(rc)
			if contained != nil {
				t.Fatalf("%v\n%x", contained, isa.Encode(prog))
			}
			if err != nil && !errors.Is(err, vm.ErrBudgetExceeded) {
				t.Fatalf("accepted program faulted: %v\n%x", err, isa.Encode(prog))
			}
		}
	})
}
