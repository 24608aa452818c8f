package interp_test

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
)

func compile(t testing.TB, src string, mode vm.Mode, helpers vm.Helpers) vm.Executable {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatalf("assemble: %v\n%s", err, src)
	}
	exe, err := interp.New().Compile(&vm.Program{Instructions: prog, Helpers: helpers}, vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, src)
	}
	return exe
}

// TestSemantics checks each instruction family against RFC 9669, in both
// memory modes. Each program leaves its answer in r0.
func TestSemantics(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want uint64
	}{
		// Immediates are sign-extended for 64-bit operations and truncated for 32-bit ones.
		{"mov64 imm sign-extends", "mov %r0, -1", 0xffffffffffffffff},
		{"mov32 imm zero-extends", "mov32 %r0, -1", 0xffffffff},
		{"add64 imm sign-extends", "lddw %r0, 0x100000000\nadd %r0, -1", 0xffffffff},
		{"add32 wraps and zero-extends", "lddw %r0, 0x1ffffffff\nadd32 %r0, 1", 0},
		{"sub32 result zero-extended", "mov %r0, 0\nsub32 %r0, 1", 0xffffffff},
		{"mul64", "mov %r0, -3\nmul %r0, 5", uint64(0xfffffffffffffff1)},
		{"mul32 truncates", "lddw %r0, 0x100000003\nmul32 %r0, 0x55555556", 2},
		{"or/and/xor", "mov %r0, 0xf0\nor %r0, 0x0f\nand %r0, 0x3c\nxor %r0, 0xff", 0xc3},
		{"neg64", "mov %r0, 5\nneg %r0", uint64(0xfffffffffffffffb)},
		{"neg32", "mov %r0, 5\nneg32 %r0", 0xfffffffb},
		{"mov32 reg zero-extends", "mov %r1, -1\nmov32 %r0, %r1", 0xffffffff},
		// Division and modulo by zero are defined.
		{"div64 by zero reg", "mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1", 0},
		{"mod64 by zero reg keeps dst", "mov %r0, 7\nmov %r1, 0\nmod %r0, %r1", 7},
		{"div32 by zero", "mov %r0, 7\ndiv32 %r0, 0", 0},
		{"mod32 by zero zero-extends dst", "mov %r0, -1\nmod32 %r0, 0", 0xffffffff},
		{"div64 unsigned", "mov %r0, -1\ndiv %r0, 2", 0x7fffffffffffffff},
		{"div64 imm sign-extended divisor", "mov %r0, 10\ndiv %r0, -1", 0},
		{"div32 unsigned", "mov32 %r0, -1\ndiv32 %r0, 2", 0x7fffffff},
		{"mod64", "mov %r0, 17\nmod %r0, 5", 2},
		// Signed division (ISA v4) truncates towards zero.
		{"sdiv64", "mov %r0, -7\nsdiv %r0, 2", uint64(0xfffffffffffffffd)},
		{"sdiv64 by zero", "mov %r0, -7\nmov %r1, 0\nsdiv %r0, %r1", 0},
		{"sdiv64 overflow", "lddw %r0, 0x8000000000000000\nsdiv %r0, -1", 0x8000000000000000},
		{"smod64 sign follows dividend", "mov %r0, -7\nsmod %r0, 2", 0xffffffffffffffff},
		{"smod64 overflow", "lddw %r0, 0x8000000000000000\nsmod %r0, -1", 0},
		{"smod64 by zero keeps dst", "mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1", uint64(0xfffffffffffffff9)},
		{"sdiv32", "mov32 %r0, -7\nsdiv32 %r0, 2", 0xfffffffd},
		{"smod32", "mov32 %r0, 7\nsmod32 %r0, -2", 1},
		{"smod32 by zero zero-extends", "mov %r0, -7\nmov %r1, 0\nsmod32 %r0, %r1", 0xfffffff9},
		{"sdiv32 overflow", "mov32 %r0, 0x80000000\nsdiv32 %r0, -1", 0x80000000},
		// Shifts mask their count.
		{"lsh64 masks", "mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1", 2},
		{"rsh32 masks", "mov32 %r0, 0x80000000\nmov %r1, 33\nrsh32 %r0, %r1", 0x40000000},
		{"lsh32 truncates", "mov32 %r0, 0x80000001\nlsh32 %r0, 1", 2},
		{"arsh64", "mov %r0, -16\narsh %r0, 2", uint64(0xfffffffffffffffc)},
		{"arsh32", "mov32 %r0, 0x80000000\narsh32 %r0, 4", 0xf8000000},
		{"arsh32 clears high half", "mov %r0, -16\narsh32 %r0, 2", 0xfffffffc},
		{"rsh64 logical", "mov %r0, -1\nrsh %r0, 60", 0xf},
		// Sign-extending moves (ISA v4).
		{"movsx8 to 64", "mov %r1, 0x80\nmovsx864 %r0, %r1", 0xffffffffffffff80},
		{"movsx16 to 64", "mov %r1, 0x8000\nmovsx1664 %r0, %r1", 0xffffffffffff8000},
		{"movsx32 to 64", "mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1", 0xffffffff80000000},
		{"movsx8 to 32", "mov %r1, 0x80\nmovsx832 %r0, %r1", 0xffffff80},
		{"movsx16 to 32", "mov %r1, 0x7fff\nmovsx1632 %r0, %r1", 0x7fff},
		// Byte swaps.
		{"be16", "lddw %r0, 0x1122334455667788\nbe16 %r0", 0x8877},
		{"be32", "lddw %r0, 0x1122334455667788\nbe32 %r0", 0x88776655},
		{"be64", "lddw %r0, 0x1122334455667788\nbe64 %r0", 0x8877665544332211},
		{"le16 truncates", "lddw %r0, 0x1122334455667788\nle16 %r0", 0x7788},
		{"le32 truncates", "lddw %r0, 0x1122334455667788\nle32 %r0", 0x55667788},
		{"le64 keeps", "lddw %r0, 0x1122334455667788\nle64 %r0", 0x1122334455667788},
		{"bswap16", "lddw %r0, 0x1122334455667788\nbswap16 %r0", 0x8877},
		{"bswap64", "lddw %r0, 0x1122334455667788\nbswap64 %r0", 0x8877665544332211},
		// Jumps: unsigned, signed, 32-bit.
		{"jgt unsigned", "mov %r0, 0\nmov %r1, -1\njgt %r1, 1, +1\nexit\nmov %r0, 1", 1},
		{"jsgt signed", "mov %r0, 0\nmov %r1, -1\njsgt %r1, 1, +1\nexit\nmov %r0, 1", 0},
		{"jslt imm sign-extended", "mov %r0, 0\nmov %r1, -5\njslt %r1, -4, +1\nexit\nmov %r0, 1", 1},
		{"jeq imm sign-extended", "mov %r0, 0\nmov %r1, -1\njeq %r1, -1, +1\nexit\nmov %r0, 1", 1},
		{"jeq32 ignores high half", "mov %r0, 0\nlddw %r1, 0x500000001\njeq32 %r1, 1, +1\nexit\nmov %r0, 1", 1},
		{"jsgt32 signed low half", "mov %r0, 0\nlddw %r1, 0x80000000\njsgt32 %r1, 0, +1\nexit\nmov %r0, 1", 0},
		{"jset", "mov %r0, 0\nmov %r1, 6\njset %r1, 4, +1\nexit\nmov %r0, 1", 1},
		{"jle/jge/jlt reg", "mov %r0, 0\nmov %r1, 3\nmov %r2, 3\njle %r1, %r2, +1\nexit\njge %r1, %r2, +1\nexit\njlt %r1, %r2, +2\nmov %r0, 1\nexit\nexit", 1},
		{"ja32 (gotol)", "mov %r0, 1\nja32 +1\nmov %r0, 2\nexit", 1},
		{"backward loop", "mov %r0, 0\nmov %r1, 10\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, -3", 55},
		// Memory: loads zero-extend, sign-extending loads extend.
		{"stdw/ldxw little-endian", "lddw %r1, 0x1122334455667788\nstxdw [%r10-8], %r1\nldxw %r0, [%r10-8]", 0x55667788},
		{"ldxh", "mov %r1, -1\nstxdw [%r10-8], %r1\nldxh %r0, [%r10-6]", 0xffff},
		{"ldxsb", "mov %r1, 0x80\nstxb [%r10-1], %r1\nldxsb %r0, [%r10-1]", 0xffffffffffffff80},
		{"ldxsh", "mov %r1, 0x8001\nstxh [%r10-2], %r1\nldxsh %r0, [%r10-2]", 0xffffffffffff8001},
		{"ldxsw", "mov32 %r1, 0x80000000\nstxw [%r10-4], %r1\nldxsw %r0, [%r10-4]", 0xffffffff80000000},
		{"stdw imm sign-extends", "stdw [%r10-8], -2\nldxdw %r0, [%r10-8]", 0xfffffffffffffffe},
		{"stw/sth/stb", "stdw [%r10-8], 0\nstw [%r10-8], 0x11223344\nsth [%r10-4], 0x5566\nstb [%r10-2], 0x77\nldxdw %r0, [%r10-8]", 0x0077556611223344},
		// Atomics return old values where they fetch.
		{"atomic add", "stdw [%r10-8], 5\nmov %r1, 3\nlock add [%r10-8], %r1\nldxdw %r0, [%r10-8]", 8},
		{"atomic fetch add returns old", "stdw [%r10-8], 5\nmov %r1, 3\nlock fetch add [%r10-8], %r1\nmov %r0, %r1", 5},
		{"atomic fetch add32 zero-extends", "stdw [%r10-8], -1\nmov %r1, 1\nlock fetch add32 [%r10-8], %r1\nldxdw %r0, [%r10-8]\nadd %r0, %r1", 0xffffffff00000000 + 0xffffffff},
		{"atomic fetch or", "stdw [%r10-8], 1\nmov %r1, 2\nlock fetch or [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x301},
		{"atomic fetch and", "stdw [%r10-8], 7\nmov %r1, 2\nlock fetch and [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x207},
		{"atomic fetch xor", "stdw [%r10-8], 7\nmov %r1, 2\nlock fetch xor [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x507},
		{"atomic xor no fetch keeps src", "stdw [%r10-8], 7\nmov %r1, 2\nlock xor [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x502},
		{"xchg", "stdw [%r10-8], 7\nmov %r1, 9\nlock xchg [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x907},
		{"cmpxchg match", "stdw [%r10-8], 7\nmov %r0, 7\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\nldxdw %r2, [%r10-8]\nlsh %r2, 8\nor %r0, %r2", 0x907},
		{"cmpxchg mismatch", "stdw [%r10-8], 7\nmov %r0, 6\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\nldxdw %r2, [%r10-8]\nlsh %r2, 8\nor %r0, %r2", 0x707},
		{"cmpxchg32 compares low half", "stdw [%r10-8], 7\nlddw %r0, 0x500000007\nmov %r1, 9\nlock cmpxchg32 [%r10-8], %r1\nldxdw %r2, [%r10-8]\nlsh %r2, 8\nor %r0, %r2", 0x907},
		// lddw and the frame pointer.
		{"lddw", "lddw %r0, 0xfedcba9876543210", 0xfedcba9876543210},
		{"r10 is frame 0's top", "mov %r0, %r10\nand %r0, 7", 0},
	}
	for _, mode := range []vm.Mode{vm.Trusted, vm.Checked} {
		for _, tt := range tests {
			src := tt.src
			if !strings.HasSuffix(strings.TrimSpace(src), "exit") {
				src += "\nexit"
			}
			exe := compile(t, src, mode, nil)
			got, err := exe.Run(&vm.RunContext{})
			if err != nil {
				t.Errorf("%s (%v): %v", tt.name, mode, err)
			} else if got != tt.want {
				t.Errorf("%s (%v): r0 = %#x, want %#x", tt.name, mode, got, tt.want)
			}
		}
	}
}

// TestLocalCalls checks frames: r6-r9 survive, each call has its own 512
// bytes, callers' stacks are reachable through pointers, and depth is bounded.
func TestLocalCalls(t *testing.T) {
	const frames = `
	mov %r6, 6
	stdw [%r10-8], 42
	mov %r1, %r10
	add %r1, -8
	call local f
	add %r0, %r6        # 6 + (42 + frame distance 512)
	exit
f:
	mov %r6, 100        # callee may clobber r6; the caller's is restored
	ldxdw %r0, [%r1]    # read the caller's stack through a pointer
	mov %r2, %r1
	sub %r2, %r10       # caller's slot is 512-8 bytes above our r10
	add %r2, 8
	add %r0, %r2
	exit
`
	for _, mode := range []vm.Mode{vm.Trusted, vm.Checked} {
		got, err := compile(t, frames, mode, nil).Run(&vm.RunContext{})
		if err != nil || got != 6+42+512 {
			t.Errorf("%v: r0 = %d, %v; want %d", mode, got, err, 6+42+512)
		}
	}

	// A chain of exactly MaxCallDepth nested calls works; one more fails.
	chain := func(n int) string {
		var b strings.Builder
		b.WriteString("mov %r0, 0\ncall local f1\nexit\n")
		for i := 1; i <= n; i++ {
			b.WriteString("f" + itoa(i) + ":\nadd %r0, 1\n")
			if i < n {
				b.WriteString("call local f" + itoa(i+1) + "\n")
			}
			b.WriteString("exit\n")
		}
		return b.String()
	}
	got, err := compile(t, chain(vm.MaxCallDepth), vm.Checked, nil).Run(&vm.RunContext{})
	if err != nil || got != vm.MaxCallDepth {
		t.Errorf("depth %d: r0 = %d, %v", vm.MaxCallDepth, got, err)
	}
	_, err = compile(t, chain(vm.MaxCallDepth+1), vm.Checked, nil).Run(&vm.RunContext{})
	if !errors.Is(err, vm.ErrCallDepth) {
		t.Errorf("depth %d: err = %v, want ErrCallDepth", vm.MaxCallDepth+1, err)
	}
	// Unbounded recursion stops with an error, never a crash.
	_, err = compile(t, "call local f\nexit\nf:\ncall local f\nexit", vm.Trusted, nil).Run(&vm.RunContext{})
	if !errors.Is(err, vm.ErrCallDepth) {
		t.Errorf("recursion: err = %v, want ErrCallDepth", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestBudget checks that runaway programs stop and that the count is exact.
func TestBudget(t *testing.T) {
	exe := compile(t, "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit", vm.Trusted, nil)
	rc := &vm.RunContext{Budget: 1000}
	_, err := exe.Run(rc)
	var ee *vm.ExecError
	if !errors.Is(err, vm.ErrBudgetExceeded) || !errors.As(err, &ee) || ee.PC != 2 {
		t.Fatalf("err = %v, want budget exceeded at instruction 2", err)
	}
	if rc.Executed < 1000 || rc.Executed > 1002 {
		t.Errorf("executed %d instructions with a budget of 1000", rc.Executed)
	}
	// Exact counts: 2 + 10 iterations of 3 + 1 exit.
	exe = compile(t, "mov %r0, 0\nmov %r1, 10\nloop:\nadd %r0, 1\nsub %r1, 1\njne %r1, 0, loop\nexit", vm.Trusted, nil)
	rc = &vm.RunContext{}
	if _, err := exe.Run(rc); err != nil || rc.Executed != 2+30+1 {
		t.Errorf("executed %d, %v; want 33", rc.Executed, err)
	}
	// A budget equal to the need is enough.
	rc = &vm.RunContext{Budget: 33}
	if _, err := exe.Run(rc); err != nil {
		t.Errorf("budget 33: %v", err)
	}
}

// TestChecked checks that checked runs stop on bad accesses with an error
// naming the instruction and address, and never touch the memory.
func TestChecked(t *testing.T) {
	ro := make([]byte, 16)
	tests := []struct {
		name, src string
		pc        int
		write     bool
	}{
		{"below the frame", "ldxdw %r0, [%r10-520]", 0, false},
		{"at the top", "ldxb %r0, [%r10]", 0, false},
		{"straddles the top", "ldxdw %r0, [%r10-4]", 0, false},
		{"null", "mov %r1, 0\nldxw %r0, [%r1]", 1, false},
		{"wild store", "lddw %r1, 0x1000\nstw [%r1], 1", 2, true},
		{"read-only region", "stb [%r1], 1", 0, true},
		{"past the region", "ldxb %r0, [%r1+16]", 0, false},
		{"misaligned atomic", "mov %r1, 1\nlock add [%r10-7], %r1", 1, true},
		{"callee reads below its frame", "call local f\nexit\nf:\nldxdw %r0, [%r10-520]\nexit", 2, false},
		{"caller's dead frame after return", "call local f\nldxdw %r0, [%r2]\nexit\nf:\nmov %r2, %r10\nadd %r2, -8\nexit", 1, false},
	}
	for _, tt := range tests {
		exe := compile(t, tt.src+"\nexit", vm.Checked, nil)
		rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("ro", ro, false)}}
		rc.Args[0] = uint64(rc.Regions[0].Start)
		_, err := exe.Run(rc)
		var ee *vm.ExecError
		var ae *vm.AccessError
		if !errors.As(err, &ee) || ee.PC != tt.pc {
			t.Errorf("%s: err = %v, want an error at instruction %d", tt.name, err, tt.pc)
			continue
		}
		if !errors.As(err, &ae) && !strings.Contains(err.Error(), "misaligned") {
			t.Errorf("%s: err = %v, want an access error", tt.name, err)
		} else if ae != nil && ae.Write != tt.write {
			t.Errorf("%s: write = %v", tt.name, ae.Write)
		}
	}
	// The read-only region is untouched and valid reads succeed.
	exe := compile(t, "ldxb %r0, [%r1+15]\nexit", vm.Checked, nil)
	rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("ro", ro, false)}}
	rc.Args[0] = uint64(rc.Regions[0].Start)
	if _, err := exe.Run(rc); err != nil {
		t.Errorf("valid read: %v", err)
	}
}

// TestHelpers checks helper calls, callx and their errors.
func TestHelpers(t *testing.T) {
	sum := func(_ *vm.RunContext, a, b, c, d, e uint64) (uint64, error) { return a + b + c + d + e, nil }
	failing := func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
		return 0, errors.New("boom")
	}
	helpers := vm.Helpers{1: sum, 2: failing}
	got, err := compile(t, "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 1\nexit", vm.Trusted, helpers).Run(&vm.RunContext{})
	if err != nil || got != 15 {
		t.Errorf("call 1: %d, %v", got, err)
	}
	got, err = compile(t, "mov %r1, 7\nmov %r2, 1\ncall %r2\nexit", vm.Trusted, helpers).Run(&vm.RunContext{})
	if err != nil || got != 8 {
		t.Errorf("callx: %d, %v", got, err)
	}
	_, err = compile(t, "mov %r2, 99\ncall %r2\nexit", vm.Trusted, helpers).Run(&vm.RunContext{})
	if !errors.Is(err, vm.ErrUnknownHelper) {
		t.Errorf("callx unknown: %v", err)
	}
	_, err = compile(t, "nop:\ncall 2\nexit", vm.Trusted, helpers).Run(&vm.RunContext{})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing helper: %v", err)
	}
	prog, _ := isa.Assemble("call 3\nexit")
	if _, err := interp.New().Compile(&vm.Program{Instructions: prog, Helpers: helpers}, vm.CompileOptions{}); !errors.Is(err, vm.ErrUnknownHelper) {
		t.Errorf("unknown helper at compile: %v", err)
	}
	kfunc := []isa.Instruction{{Opcode: isa.OpCall, Src: isa.CallKfunc, Imm: 1234}, {Opcode: isa.OpExit}}
	if _, err := interp.New().Compile(&vm.Program{Instructions: kfunc}, vm.CompileOptions{}); !errors.Is(err, vm.ErrUnsupported) || !strings.Contains(err.Error(), "1234") {
		t.Errorf("kfunc: %v", err)
	}
	mapRef := isa.LoadImm64(isa.R1, isa.PseudoMapFD, 3)
	if _, err := interp.New().Compile(&vm.Program{Instructions: append(mapRef[:], isa.Instruction{Opcode: isa.OpExit})}, vm.CompileOptions{}); !errors.Is(err, vm.ErrUnsupported) {
		t.Errorf("unresolved map lddw: %v", err)
	}
}

// TestLegacyPacketLoads checks LD_ABS/LD_IND: big-endian, and out of bounds
// ends the program with r0 = 0.
func TestLegacyPacketLoads(t *testing.T) {
	pkt := []byte{0x11, 0x22, 0x33, 0x44, 0x55}
	tests := []struct {
		src  string
		want uint64
	}{
		{"ldabsw 1", 0x22334455},
		{"ldabsh 3", 0x4455},
		{"ldabsb 0", 0x11},
		{"mov %r1, 2\nldindh %r1, 1", 0x4455},
		{"ldabsw 2\nmov %r0, 9", 0},
		{"mov %r1, -1\nldindb %r1, 0\nmov %r0, 9", 0},
	}
	for _, tt := range tests {
		got, err := compile(t, tt.src+"\nexit", vm.Checked, nil).Run(&vm.RunContext{Packet: pkt})
		if err != nil || got != tt.want {
			t.Errorf("%q: %#x, %v; want %#x", tt.src, got, err, tt.want)
		}
	}
}

// TestConcurrentRuns runs one executable from many goroutines, each with its
// own context, with atomics on a shared region.
func TestConcurrentRuns(t *testing.T) {
	shared := make([]byte, 8)
	exe := compile(t, "mov %r2, 1\nlock add [%r1], %r2\nmov %r0, %r10\nexit", vm.Checked, nil)
	var wg sync.WaitGroup
	const goroutines, runs = 8, 500
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("shared", shared, true)}}
			rc.Args[0] = uint64(rc.Regions[0].Start)
			for i := 0; i < runs; i++ {
				if _, err := exe.Run(rc); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := uint64(shared[0]) | uint64(shared[1])<<8; got != goroutines*runs {
		t.Errorf("counter = %d, want %d", got, goroutines*runs)
	}
}

// TestTailCalls checks the tail-call loop: a helper that names a program
// ends the current one; vm.Run continues with it, r1 as given, the budget
// shared, and the helper's limit of 33 observed.
func TestTailCalls(t *testing.T) {
	var target vm.Executable
	tail := func(rc *vm.RunContext, ctx, _, _, _, _ uint64) (uint64, error) {
		if rc.TailCalls >= vm.MaxTailCalls {
			return ^uint64(1) + 1, nil // -1 (as Linux: fall through)
		}
		rc.TailCalls++
		rc.TailCall, rc.Args[0] = target, ctx
		return 0, nil
	}
	helpers := vm.Helpers{12: tail}
	// Each program adds 1 to a counter at [r1] and tail-calls itself; when
	// the tail call fails it returns the counter.
	self := compile(t, "ldxdw %r2, [%r1]\nadd %r2, 1\nstxdw [%r1], %r2\nmov %r6, %r1\ncall 12\nldxdw %r0, [%r6]\nexit", vm.Checked, helpers)
	target = self
	counter := make([]byte, 8)
	rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("counter", counter, true)}}
	rc.Args[0] = uint64(rc.Regions[0].Start)
	got, err := vm.Run(self, rc)
	if err != nil || got != vm.MaxTailCalls+1 {
		t.Errorf("r0 = %d, %v; want %d (the first run and 33 tail calls)", got, err, vm.MaxTailCalls+1)
	}
	if rc.Executed != 7*(vm.MaxTailCalls+1)-2*vm.MaxTailCalls {
		t.Errorf("executed %d", rc.Executed)
	}
	// The budget covers the whole chain.
	clear(counter)
	rc.Budget = 50
	if _, err := vm.Run(self, rc); !errors.Is(err, vm.ErrBudgetExceeded) {
		t.Errorf("budget 50: %v", err)
	}
}
