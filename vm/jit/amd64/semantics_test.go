package amd64_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/vm"
	"github.com/bpfhost/bpfhost/vm/interp"
	"github.com/bpfhost/bpfhost/vm/jit/amd64"
)

var modes = []vm.Mode{vm.Trusted, vm.Checked}

// heapBytes returns n zero bytes on the heap. Memory a program reaches must
// not live on a goroutine stack, which moves when it grows (DESIGN.md #2): a
// small make that does not visibly escape may be placed there, because
// vm.RegionOf keeps only its address. For the same reason a region does not
// keep its memory alive: tests keep it in rc.Value for as long as rc lives.
//
//go:noinline
func heapBytes(n int) []byte { return make([]byte, n) }

func compileWith(t testing.TB, engine vm.Engine, src string, mode vm.Mode, helpers vm.Helpers) vm.Executable {
	t.Helper()
	prog, err := isa.Assemble(src)
	if err != nil {
		t.Fatalf("assemble: %v\n%s", err, src)
	}
	exe, err := engine.Compile(&vm.Program{Instructions: prog, Helpers: helpers}, vm.CompileOptions{Mode: mode})
	if err != nil {
		t.Fatalf("%s compile: %v\n%s", engine.Name(), err, src)
	}
	t.Cleanup(func() { exe.Close() })
	return exe
}

func compile(t testing.TB, src string, mode vm.Mode, helpers vm.Helpers) vm.Executable {
	t.Helper()
	return compileWith(t, amd64.New(), src, mode, helpers)
}

// outcome is everything a run reports, for comparing engines.
type outcome struct {
	r0       uint64
	err      string
	executed uint64
	depth    int
}

func (o outcome) String() string {
	return fmt.Sprintf("r0=%#x err=%q executed=%d depth=%d", o.r0, o.err, o.executed, o.depth)
}

// both runs src in the interpreter and the JIT with a context made by setup
// and reports an error if anything differs. Both runs use the same context,
// with its stack cleared, so that addresses in errors match.
func both(t *testing.T, src string, mode vm.Mode, helpers vm.Helpers, setup func() *vm.RunContext) (outcome, error) {
	t.Helper()
	var got [2]outcome
	rc := setup()
	for i, engine := range []vm.Engine{interp.New(), amd64.New()} {
		clear(rc.Stack().Bytes())
		rc.Executed, rc.Depth = 0, 0
		r0, err := compileWith(t, engine, src, mode, helpers).Run(rc)
		got[i] = outcome{r0: r0, executed: rc.Executed, depth: rc.Depth}
		if err != nil {
			got[i].err = err.Error()
		}
	}
	if got[0] != got[1] {
		return got[1], fmt.Errorf("interp %v, jit %v", got[0], got[1])
	}
	return got[1], nil
}

// TestSemantics checks each instruction family against RFC 9669 in both
// memory modes, and that the interpreter agrees on r0 and the instruction
// count. Each program leaves its answer in r0.
func TestSemantics(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want uint64
	}{
		// Immediates: sign-extended for 64-bit operations, truncated for 32-bit ones.
		{"mov64 imm sign-extends", "mov %r0, -1", 0xffffffffffffffff},
		{"mov32 imm zero-extends", "mov32 %r0, -1", 0xffffffff},
		{"mov64 zero", "mov %r0, -1\nmov %r0, 0", 0},
		{"add64 imm sign-extends", "lddw %r0, 0x100000000\nadd %r0, -1", 0xffffffff},
		{"add64 imm32", "mov %r0, 1\nadd %r0, 0x12345678", 0x12345679},
		{"add32 wraps and zero-extends", "lddw %r0, 0x1ffffffff\nadd32 %r0, 1", 0},
		{"add32 of 0 zero-extends", "lddw %r0, 0x1ffffffff\nadd32 %r0, 0", 0xffffffff},
		{"sub32 result zero-extended", "mov %r0, 0\nsub32 %r0, 1", 0xffffffff},
		{"sub64 reg", "mov %r0, 5\nmov %r9, 7\nsub %r0, %r9", 0xfffffffffffffffe},
		{"mul64", "mov %r0, -3\nmul %r0, 5", 0xfffffffffffffff1},
		{"mul64 imm32", "mov %r0, 3\nmul %r0, 0x10000", 0x30000},
		{"mul64 reg", "lddw %r0, 0x100000001\nmov %r7, 3\nmul %r0, %r7", 0x300000003},
		{"mul32 truncates", "lddw %r0, 0x100000003\nmul32 %r0, 0x55555556", 2},
		{"mul32 reg", "lddw %r0, 0x100000003\nmov %r4, -1\nmul32 %r0, %r4", 0xfffffffd},
		{"or/and/xor", "mov %r0, 0xf0\nor %r0, 0x0f\nand %r0, 0x3c\nxor %r0, 0xff", 0xc3},
		{"and64 imm sign-extends", "mov %r0, -1\nand %r0, -256", 0xffffffffffffff00},
		{"and32 reg", "mov %r0, -1\nmov %r5, -1\nand32 %r0, %r5", 0xffffffff},
		{"xor64 reg self", "mov %r0, -1\nxor %r0, %r0", 0},
		{"neg64", "mov %r0, 5\nneg %r0", 0xfffffffffffffffb},
		{"neg32", "mov %r0, 5\nneg32 %r0", 0xfffffffb},
		{"mov32 reg zero-extends", "mov %r1, -1\nmov32 %r0, %r1", 0xffffffff},
		{"mov32 reg self zero-extends", "mov %r0, -1\nmov32 %r0, %r0", 0xffffffff},
		{"mov64 reg", "lddw %r9, 0x123456789\nmov %r0, %r9", 0x123456789},
		// Every BPF register holds its own value.
		{"all registers", "mov %r0, 1\nmov %r1, 2\nmov %r2, 4\nmov %r3, 8\nmov %r4, 16\nmov %r5, 32\nmov %r6, 64\nmov %r7, 128\nmov %r8, 256\nmov %r9, 512\nadd %r0, %r1\nadd %r0, %r2\nadd %r0, %r3\nadd %r0, %r4\nadd %r0, %r5\nadd %r0, %r6\nadd %r0, %r7\nadd %r0, %r8\nadd %r0, %r9", 1023},
		// Division and modulo by zero are defined.
		{"div64 by zero reg", "mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1", 0},
		{"mod64 by zero reg keeps dst", "mov %r0, 7\nmov %r1, 0\nmod %r0, %r1", 7},
		{"div32 by zero", "mov %r0, 7\ndiv32 %r0, 0", 0},
		{"div32 by zero high-half reg", "mov %r0, 7\nlddw %r1, 0x100000000\ndiv32 %r0, %r1", 0},
		{"mod32 by zero zero-extends dst", "mov %r0, -1\nmod32 %r0, 0", 0xffffffff},
		{"mod32 by zero reg zero-extends dst", "mov %r0, -1\nmov %r2, 0\nmod32 %r0, %r2", 0xffffffff},
		{"div64 unsigned", "mov %r0, -1\ndiv %r0, 2", 0x7fffffffffffffff},
		{"div64 imm sign-extended divisor", "mov %r0, 10\ndiv %r0, -1", 0},
		{"div32 unsigned", "mov32 %r0, -1\ndiv32 %r0, 2", 0x7fffffff},
		{"div32 imm unsigned divisor", "mov32 %r0, -1\ndiv32 %r0, -1", 1},
		{"mod64", "mov %r0, 17\nmod %r0, 5", 2},
		{"mod64 reg", "mov %r0, 17\nmov %r6, 5\nmod %r0, %r6", 2},
		{"div64 dst rdx (r3)", "mov %r0, 99\nmov %r3, 17\nmov %r4, 5\ndiv %r3, %r4\nlsh %r0, 8\nor %r0, %r3", 99<<8 | 3},
		{"mod64 dst rdx (r3)", "mov %r0, 99\nmov %r3, 17\nmov %r4, 5\nmod %r3, %r4\nlsh %r0, 8\nor %r0, %r3", 99<<8 | 2},
		{"div64 by rdx (r3)", "mov %r0, 99\nmov %r3, 5\nmov %r6, 17\ndiv %r6, %r3\nlsh %r0, 16\nlsh %r3, 8\nor %r0, %r3\nor %r0, %r6", 99<<16 | 5<<8 | 3},
		{"div64 by rax (r0)", "mov %r0, 5\nmov %r6, 17\ndiv %r6, %r0\nlsh %r0, 8\nor %r0, %r6", 5<<8 | 3},
		{"mod64 by itself", "mov %r0, 17\nmod %r0, %r0", 0},
		{"div preserves r0 and r3", "mov %r0, 1\nmov %r3, 2\nmov %r6, 100\ndiv %r6, 7\nlsh %r0, 8\nor %r0, %r3\nlsh %r0, 8\nor %r0, %r6", 1<<16 | 2<<8 | 14},
		// Signed division (ISA v4) truncates towards zero.
		{"sdiv64", "mov %r0, -7\nsdiv %r0, 2", 0xfffffffffffffffd},
		{"sdiv64 by zero", "mov %r0, -7\nmov %r1, 0\nsdiv %r0, %r1", 0},
		{"sdiv64 overflow", "lddw %r0, 0x8000000000000000\nsdiv %r0, -1", 0x8000000000000000},
		{"sdiv64 overflow reg", "lddw %r0, 0x8000000000000000\nmov %r2, -1\nsdiv %r0, %r2", 0x8000000000000000},
		{"sdiv64 by -1 reg", "mov %r0, 7\nmov %r2, -1\nsdiv %r0, %r2", 0xfffffffffffffff9},
		{"smod64 sign follows dividend", "mov %r0, -7\nsmod %r0, 2", 0xffffffffffffffff},
		{"smod64 overflow", "lddw %r0, 0x8000000000000000\nsmod %r0, -1", 0},
		{"smod64 overflow reg", "lddw %r0, 0x8000000000000000\nmov %r1, -1\nsmod %r0, %r1", 0},
		{"smod64 by zero keeps dst", "mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1", 0xfffffffffffffff9},
		{"sdiv32", "mov32 %r0, -7\nsdiv32 %r0, 2", 0xfffffffd},
		{"sdiv32 reg", "mov32 %r0, -7\nmov %r8, 2\nsdiv32 %r0, %r8", 0xfffffffd},
		{"smod32", "mov32 %r0, 7\nsmod32 %r0, -2", 1},
		{"smod32 by zero zero-extends", "mov %r0, -7\nmov %r1, 0\nsmod32 %r0, %r1", 0xfffffff9},
		{"smod32 by zero imm zero-extends", "mov %r0, -7\nsmod32 %r0, 0", 0xfffffff9},
		{"sdiv32 overflow", "mov32 %r0, 0x80000000\nsdiv32 %r0, -1", 0x80000000},
		{"sdiv32 overflow reg", "mov32 %r0, 0x80000000\nmov32 %r1, -1\nsdiv32 %r0, %r1", 0x80000000},
		{"smod32 overflow reg", "mov32 %r0, 0x80000000\nmov32 %r1, -1\nsmod32 %r0, %r1", 0},
		{"sdiv32 -1 in low half only", "mov32 %r0, 0x80000000\nlddw %r1, 0x5ffffffff\nsdiv32 %r0, %r1", 0x80000000},
		// Shifts mask their count.
		{"lsh64 masks", "mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1", 2},
		{"lsh64 by r4 (cl)", "mov %r0, 1\nmov %r4, 4\nlsh %r0, %r4", 16},
		{"lsh64 of r4", "mov %r4, 1\nmov %r1, 4\nlsh %r4, %r1\nmov %r0, %r4", 16},
		{"lsh64 r4 by r4", "mov %r4, 3\nlsh %r4, %r4\nmov %r0, %r4", 24},
		{"shift keeps r4", "mov %r4, 7\nmov %r0, 1\nmov %r1, 3\nlsh %r0, %r1\nlsh %r0, 8\nor %r0, %r4", 8<<8 | 7},
		{"rsh32 masks", "mov32 %r0, 0x80000000\nmov %r1, 33\nrsh32 %r0, %r1", 0x40000000},
		{"rsh32 by 0 reg zero-extends", "mov %r0, -1\nmov %r1, 0\nrsh32 %r0, %r1", 0xffffffff},
		{"lsh32 by 32 reg zero-extends", "mov %r0, -1\nmov %r1, 32\nlsh32 %r0, %r1", 0xffffffff},
		{"lsh32 by 0 imm zero-extends", "mov %r0, -1\nlsh32 %r0, 0", 0xffffffff},
		{"lsh32 truncates", "mov32 %r0, 0x80000001\nlsh32 %r0, 1", 2},
		{"arsh64", "mov %r0, -16\narsh %r0, 2", 0xfffffffffffffffc},
		{"arsh64 reg", "mov %r0, -16\nmov %r9, 66\narsh %r0, %r9", 0xfffffffffffffffc},
		{"arsh32", "mov32 %r0, 0x80000000\narsh32 %r0, 4", 0xf8000000},
		{"arsh32 clears high half", "mov %r0, -16\narsh32 %r0, 2", 0xfffffffc},
		{"rsh64 logical", "mov %r0, -1\nrsh %r0, 60", 0xf},
		// Sign-extending moves (ISA v4).
		{"movsx8 to 64", "mov %r1, 0x80\nmovsx864 %r0, %r1", 0xffffffffffffff80},
		{"movsx8 from sil (r2)", "mov %r2, 0x180\nmovsx864 %r0, %r2", 0xffffffffffffff80},
		{"movsx8 from dil (r1) to 32", "mov %r1, 0x17f\nmovsx832 %r0, %r1", 0x7f},
		{"movsx16 to 64", "mov %r1, 0x8000\nmovsx1664 %r0, %r1", 0xffffffffffff8000},
		{"movsx32 to 64", "mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1", 0xffffffff80000000},
		{"movsx8 to 32", "mov %r1, 0x80\nmovsx832 %r0, %r1", 0xffffff80},
		{"movsx16 to 32", "mov %r1, 0x7fff\nmovsx1632 %r0, %r1", 0x7fff},
		// Byte swaps.
		{"be16", "lddw %r0, 0x1122334455667788\nbe16 %r0", 0x8877},
		{"be32", "lddw %r0, 0x1122334455667788\nbe32 %r0", 0x88776655},
		{"be64", "lddw %r0, 0x1122334455667788\nbe64 %r0", 0x8877665544332211},
		{"be16 of r2 (si)", "lddw %r2, 0x1122334455667788\nbe16 %r2\nmov %r0, %r2", 0x8877},
		{"be64 of r9 (r15)", "lddw %r9, 0x1122334455667788\nbe64 %r9\nmov %r0, %r9", 0x8877665544332211},
		{"le16 truncates", "lddw %r0, 0x1122334455667788\nle16 %r0", 0x7788},
		{"le32 truncates", "lddw %r0, 0x1122334455667788\nle32 %r0", 0x55667788},
		{"le64 keeps", "lddw %r0, 0x1122334455667788\nle64 %r0", 0x1122334455667788},
		{"bswap16", "lddw %r0, 0x1122334455667788\nbswap16 %r0", 0x8877},
		{"bswap32", "lddw %r0, 0x1122334455667788\nbswap32 %r0", 0x88776655},
		{"bswap64", "lddw %r0, 0x1122334455667788\nbswap64 %r0", 0x8877665544332211},
		// Jumps: unsigned, signed, 32-bit.
		{"jgt unsigned", "mov %r0, 0\nmov %r1, -1\njgt %r1, 1, +1\nexit\nmov %r0, 1", 1},
		{"jsgt signed", "mov %r0, 0\nmov %r1, -1\njsgt %r1, 1, +1\nexit\nmov %r0, 1", 0},
		{"jslt imm sign-extended", "mov %r0, 0\nmov %r1, -5\njslt %r1, -4, +1\nexit\nmov %r0, 1", 1},
		{"jeq imm sign-extended", "mov %r0, 0\nmov %r1, -1\njeq %r1, -1, +1\nexit\nmov %r0, 1", 1},
		{"jeq32 ignores high half", "mov %r0, 0\nlddw %r1, 0x500000001\njeq32 %r1, 1, +1\nexit\nmov %r0, 1", 1},
		{"jsgt32 signed low half", "mov %r0, 0\nlddw %r1, 0x80000000\njsgt32 %r1, 0, +1\nexit\nmov %r0, 1", 0},
		{"jset", "mov %r0, 0\nmov %r1, 6\njset %r1, 4, +1\nexit\nmov %r0, 1", 1},
		{"jset imm sign-extended", "mov %r0, 0\nlddw %r1, 0x8000000000000000\njset %r1, -1, +1\nexit\nmov %r0, 1", 1},
		{"jset32 ignores high half", "mov %r0, 1\nlddw %r1, 0x8000000000000000\njset32 %r1, -1, +1\nexit\nmov %r0, 0", 1},
		{"jset reg", "mov %r0, 0\nmov %r1, 6\nmov %r2, 9\njset %r1, %r2, +1\nmov %r0, 1", 1},
		{"jle/jge/jlt reg", "mov %r0, 0\nmov %r1, 3\nmov %r2, 3\njle %r1, %r2, +1\nexit\njge %r1, %r2, +1\nexit\njlt %r1, %r2, +2\nmov %r0, 1\nexit\nexit", 1},
		{"jne/jsge/jsle reg", "mov %r0, 0\nmov %r1, -3\nmov %r2, 3\njne %r1, %r2, +1\nexit\njsle %r1, %r2, +1\nexit\njsge %r1, %r2, +2\nmov %r0, 1\nexit\nexit", 1},
		{"jlt32/jle32/jgt32/jge32", "mov %r0, 0\nlddw %r1, 0xff00000001\nmov %r2, 2\njlt32 %r1, %r2, +1\nexit\njle32 %r1, 1, +1\nexit\njgt32 %r1, 0, +1\nexit\njge32 %r2, 2, +1\nexit\nmov %r0, 1", 1},
		{"jslt32/jsle32/jsge32", "mov %r0, 0\nmov32 %r1, -2\njslt32 %r1, -1, +1\nexit\njsle32 %r1, -2, +1\nexit\njsge32 %r1, -2, +1\nexit\nmov %r0, 1", 1},
		{"ja32 (gotol)", "mov %r0, 1\nja32 +1\nmov %r0, 2\nexit", 1},
		{"ja backwards once", "mov %r0, 0\nja +2\nmov %r0, 5\nexit\njeq %r0, 0, -3\nexit", 5},
		{"backward loop", "mov %r0, 0\nmov %r1, 10\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, -3", 55},
		{"nested loops", "mov %r0, 0\nmov %r1, 10\nouter:\nmov %r2, 10\ninner:\nadd %r0, 1\nsub %r2, 1\njne %r2, 0, inner\nsub %r1, 1\njne %r1, 0, outer", 100},
		// Memory: loads zero-extend, sign-extending loads extend.
		{"stdw/ldxw little-endian", "lddw %r1, 0x1122334455667788\nstxdw [%r10-8], %r1\nldxw %r0, [%r10-8]", 0x55667788},
		{"ldxh", "mov %r1, -1\nstxdw [%r10-8], %r1\nldxh %r0, [%r10-6]", 0xffff},
		{"ldxb", "mov %r1, -1\nstxdw [%r10-8], %r1\nmov %r0, -1\nldxb %r0, [%r10-6]", 0xff},
		{"ldxsb", "mov %r1, 0x80\nstxb [%r10-1], %r1\nldxsb %r0, [%r10-1]", 0xffffffffffffff80},
		{"ldxsh", "mov %r1, 0x8001\nstxh [%r10-2], %r1\nldxsh %r0, [%r10-2]", 0xffffffffffff8001},
		{"ldxsw", "mov32 %r1, 0x80000000\nstxw [%r10-4], %r1\nldxsw %r0, [%r10-4]", 0xffffffff80000000},
		{"stxb from sil (r2)", "stdw [%r10-8], 0\nmov %r2, 0x1ab\nstxb [%r10-8], %r2\nldxdw %r0, [%r10-8]", 0xab},
		{"stxb from dil (r1)", "stdw [%r10-8], 0\nmov %r1, 0xcd\nstxb [%r10-7], %r1\nldxdw %r0, [%r10-8]", 0xcd00},
		{"stxh", "stdw [%r10-8], 0\nmov %r7, 0x12345\nstxh [%r10-8], %r7\nldxdw %r0, [%r10-8]", 0x2345},
		{"stdw imm sign-extends", "stdw [%r10-8], -2\nldxdw %r0, [%r10-8]", 0xfffffffffffffffe},
		{"stw/sth/stb", "stdw [%r10-8], 0\nstw [%r10-8], 0x11223344\nsth [%r10-4], 0x5566\nstb [%r10-2], 0x77\nldxdw %r0, [%r10-8]", 0x0077556611223344},
		{"pointer in r7 (r13)", "mov %r7, %r10\nstdw [%r10-8], 9\nldxdw %r0, [%r7-8]", 9},
		{"pointer in r7, offset 0", "mov %r7, %r10\nadd %r7, -8\nstdw [%r10-8], 11\nldxdw %r0, [%r7]", 11},
		{"far offset", "stdw [%r10-512], 3\nldxdw %r0, [%r10-512]", 3},
		// Atomics return old values where they fetch.
		{"atomic add", "stdw [%r10-8], 5\nmov %r1, 3\nlock add [%r10-8], %r1\nldxdw %r0, [%r10-8]", 8},
		{"atomic add32", "stdw [%r10-8], -1\nmov %r1, 1\nlock add32 [%r10-8], %r1\nldxdw %r0, [%r10-8]", 0xffffffff00000000},
		{"atomic or/and/xor no fetch", "stdw [%r10-8], 0xf0\nmov %r1, 0xf\nlock or [%r10-8], %r1\nmov %r1, 0x3c\nlock and [%r10-8], %r1\nmov %r1, 0xff\nlock xor [%r10-8], %r1\nldxdw %r0, [%r10-8]", 0xc3},
		{"atomic fetch add returns old", "stdw [%r10-8], 5\nmov %r1, 3\nlock fetch add [%r10-8], %r1\nmov %r0, %r1", 5},
		{"atomic fetch add32 zero-extends", "stdw [%r10-8], -1\nmov %r1, 1\nlock fetch add32 [%r10-8], %r1\nldxdw %r0, [%r10-8]\nadd %r0, %r1", 0xffffffff00000000 + 0xffffffff},
		{"atomic fetch or", "stdw [%r10-8], 1\nmov %r1, 2\nlock fetch or [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x301},
		{"atomic fetch and", "stdw [%r10-8], 7\nmov %r1, 2\nlock fetch and [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x207},
		{"atomic fetch xor", "stdw [%r10-8], 7\nmov %r1, 2\nlock fetch xor [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x507},
		{"atomic fetch or32 zero-extends", "stdw [%r10-8], -1\nmov %r1, 2\nlock fetch or32 [%r10-8], %r1\nmov %r0, %r1", 0xffffffff},
		{"atomic fetch xor r0", "stdw [%r10-8], 7\nmov %r0, 2\nlock fetch xor [%r10-8], %r0\nldxdw %r1, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x705},
		{"atomic fetch and32 r0", "stdw [%r10-8], -1\nlddw %r0, 0xff0000000f\nlock fetch and32 [%r10-8], %r0\nldxdw %r1, [%r10-8]\nxor %r0, %r1", 0xfffffffffffffff0},
		{"atomic fetch or keeps r0", "stdw [%r10-8], 1\nmov %r0, 40\nmov %r1, 2\nlock fetch or [%r10-8], %r1\nadd %r0, %r1", 41},
		{"atomic fetch or via r0 base", "mov %r0, %r10\nstdw [%r10-8], 1\nmov %r1, 2\nlock fetch or [%r0-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x301},
		{"atomic xor no fetch keeps src", "stdw [%r10-8], 7\nmov %r1, 2\nlock xor [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x502},
		{"xchg", "stdw [%r10-8], 7\nmov %r1, 9\nlock xchg [%r10-8], %r1\nldxdw %r0, [%r10-8]\nlsh %r0, 8\nor %r0, %r1", 0x907},
		{"xchg32 zero-extends", "stdw [%r10-8], -1\nmov %r1, 9\nlock xchg32 [%r10-8], %r1\nmov %r0, %r1", 0xffffffff},
		{"cmpxchg match", "stdw [%r10-8], 7\nmov %r0, 7\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\nldxdw %r2, [%r10-8]\nlsh %r2, 8\nor %r0, %r2", 0x907},
		{"cmpxchg mismatch", "stdw [%r10-8], 7\nmov %r0, 6\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\nldxdw %r2, [%r10-8]\nlsh %r2, 8\nor %r0, %r2", 0x707},
		{"cmpxchg32 compares low half", "stdw [%r10-8], 7\nlddw %r0, 0x500000007\nmov %r1, 9\nlock cmpxchg32 [%r10-8], %r1\nldxdw %r2, [%r10-8]\nlsh %r2, 8\nor %r0, %r2", 0x907},
		{"cmpxchg32 mismatch zero-extends", "stdw [%r10-8], -1\nlddw %r0, 0x500000007\nmov %r1, 9\nlock cmpxchg32 [%r10-8], %r1", 0xffffffff},
		// lddw and the frame pointer.
		{"lddw", "lddw %r0, 0xfedcba9876543210", 0xfedcba9876543210},
		{"lddw negative 32-bit", "lddw %r0, 0xffffffff80000000", 0xffffffff80000000},
		{"lddw 32-bit", "lddw %r0, 0x80000000", 0x80000000},
		{"r10 is frame 0's top", "mov %r0, %r10\nand %r0, 7", 0},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			src := tt.src
			if !strings.HasSuffix(strings.TrimSpace(src), "exit") {
				src += "\nexit"
			}
			got, err := both(t, src, mode, nil, func() *vm.RunContext { return &vm.RunContext{} })
			switch {
			case err != nil:
				t.Errorf("%s (%v): %v", tt.name, mode, err)
			case got.err != "":
				t.Errorf("%s (%v): %s", tt.name, mode, got.err)
			case got.r0 != tt.want:
				t.Errorf("%s (%v): r0 = %#x, want %#x", tt.name, mode, got.r0, tt.want)
			}
		}
	}
}

// TestLocalCalls checks frames: r6-r9 survive, each call has its own 512
// bytes, callers' stacks are reachable through pointers, and depth is bounded.
func TestLocalCalls(t *testing.T) {
	const frames = `
	mov %r6, 6
	mov %r7, 7
	mov %r8, 8
	mov %r9, 9
	stdw [%r10-8], 42
	mov %r1, %r10
	add %r1, -8
	call local f
	add %r0, %r6        # 6 + 7 + 8 + 9 + (42 + frame distance 512)
	add %r0, %r7
	add %r0, %r8
	add %r0, %r9
	exit
f:
	mov %r6, 100        # the callee may clobber r6-r9; the caller's are restored
	mov %r7, 100
	mov %r8, 100
	mov %r9, 100
	ldxdw %r0, [%r1]    # read the caller's stack through a pointer
	mov %r2, %r1
	sub %r2, %r10       # caller's slot is 512-8 bytes above our r10
	add %r2, 8
	add %r0, %r2
	exit
`
	for _, mode := range modes {
		got, err := compile(t, frames, mode, nil).Run(&vm.RunContext{})
		if want := uint64(6 + 7 + 8 + 9 + 42 + 512); err != nil || got != want {
			t.Errorf("%v: r0 = %d, %v; want %d", mode, got, err, want)
		}
	}

	// A chain of exactly MaxCallDepth nested calls works; one more fails.
	chain := func(n int) string {
		var b strings.Builder
		b.WriteString("mov %r0, 0\ncall local f1\nexit\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "f%d:\nadd %%r0, 1\nstdw [%%r10-8], %d\n", i, i)
			if i < n {
				fmt.Fprintf(&b, "call local f%d\n", i+1)
			}
			b.WriteString("ldxdw %r1, [%r10-8]\nlsh %r0, 1\nadd %r0, %r1\nexit\n")
		}
		return b.String()
	}
	for _, mode := range modes {
		rc := func() *vm.RunContext { return &vm.RunContext{} }
		got, err := both(t, chain(vm.MaxCallDepth), mode, nil, rc)
		if err != nil || got.err != "" {
			t.Errorf("depth %d (%v): %v %v", vm.MaxCallDepth, mode, got, err)
		}
		got, err = both(t, chain(vm.MaxCallDepth+1), mode, nil, rc)
		if err != nil || !strings.Contains(got.err, vm.ErrCallDepth.Error()) {
			t.Errorf("depth %d (%v): %v %v, want ErrCallDepth", vm.MaxCallDepth+1, mode, got, err)
		}
	}
	// Unbounded recursion stops with an error, never a crash.
	_, err := compile(t, "call local f\nexit\nf:\ncall local f\nexit", vm.Trusted, nil).Run(&vm.RunContext{})
	if !errors.Is(err, vm.ErrCallDepth) {
		t.Errorf("recursion: err = %v, want ErrCallDepth", err)
	}
	// Recursion with a counter: calls and returns at every depth, many times.
	const fib = `
	mov %r1, 15
	call local fib
	exit
fib:
	mov %r0, %r1
	jlt %r1, 2, done
	mov %r6, %r1
	sub %r1, 1
	call local fib2
	mov %r7, %r0
	mov %r1, %r6
	sub %r1, 2
	call local fib2
	add %r0, %r7
done:
	exit
fib2:                 # fib without recursion beyond depth 8: iterative
	mov %r0, 0
	mov %r2, 1
	jeq %r1, 0, out
loop:
	mov %r3, %r0
	add %r3, %r2
	mov %r0, %r2
	mov %r2, %r3
	sub %r1, 1
	jne %r1, 0, loop
out:
	exit
`
	for _, mode := range modes {
		got, err := both(t, fib, mode, nil, func() *vm.RunContext { return &vm.RunContext{} })
		if err != nil || got.r0 != 610 {
			t.Errorf("fib (%v): %v %v, want 610", mode, got, err)
		}
	}
}

// TestBudget checks that runaway programs stop, that counts match the
// interpreter's exactly, and that budgets larger than one chunk work.
func TestBudget(t *testing.T) {
	loop := "mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit"
	exe := compile(t, loop, vm.Trusted, nil)
	rc := &vm.RunContext{Budget: 1000}
	_, err := exe.Run(rc)
	var ee *vm.ExecError
	if !errors.Is(err, vm.ErrBudgetExceeded) || !errors.As(err, &ee) || ee.PC != 2 {
		t.Fatalf("err = %v, want budget exceeded at instruction 2", err)
	}
	if rc.Executed < 1000 || rc.Executed > 1002 {
		t.Errorf("executed %d instructions with a budget of 1000", rc.Executed)
	}
	counted := "mov %r0, 0\nmov %r1, 10\nloop:\nadd %r0, 1\nsub %r1, 1\njne %r1, 0, loop\nexit"
	exe = compile(t, counted, vm.Trusted, nil)
	rc = &vm.RunContext{}
	if _, err := exe.Run(rc); err != nil || rc.Executed != 2+30+1 {
		t.Errorf("executed %d, %v; want 33", rc.Executed, err)
	}
	rc = &vm.RunContext{Budget: 33}
	if _, err := exe.Run(rc); err != nil {
		t.Errorf("budget 33: %v", err)
	}

	// Every budget from 0 to past the need stops at the same place with
	// the same count in both engines, for jumps, calls and returns.
	programs := []string{
		loop, counted,
		"mov %r0, 0\nmov %r6, 5\nloop:\ncall local f\nsub %r6, 1\njne %r6, 0, loop\nexit\nf:\nadd %r0, 1\njgt %r0, 100, +1\nexit\nmov %r0, 0\nexit",
		"mov %r0, 3\njeq %r0, 3, +1\nexit\nmov %r1, 1\nja +0\nadd %r0, %r1\njne %r0, 3, +1\nexit\nexit",
		"mov %r1, 1\nmov %r2, 2\ncall 1\nmov %r6, 4\nloop:\ncall 1\nsub %r6, 1\njsgt %r6, 0, loop\nexit",
	}
	sum := vm.Helpers{1: func(_ *vm.RunContext, a, b, _, _, _ uint64) (uint64, error) { return a + b, nil }}
	for _, src := range programs {
		for budget := uint64(1); budget < 80; budget++ {
			_, err := both(t, src, vm.Trusted, sum, func() *vm.RunContext { return &vm.RunContext{Budget: budget} })
			if err != nil {
				t.Errorf("budget %d: %v\n%s", budget, err, src)
				break
			}
		}
	}

	// Across chunks: 3 million iterations, then a budget in the middle of
	// the second chunk.
	long := "mov %r0, 0\nlddw %r1, 3000000\nloop:\nadd %r0, 2\nsub %r1, 1\njne %r1, 0, loop\nexit"
	exe = compile(t, long, vm.Trusted, nil)
	rc = &vm.RunContext{}
	if r0, err := exe.Run(rc); err != nil || r0 != 6000000 || rc.Executed != 3+9000000+1 {
		t.Errorf("long loop: r0 %d, executed %d, %v", r0, rc.Executed, err)
	}
	// Chunks also end at calls and returns at every depth: 2^20 is not a
	// multiple of the 13-instruction iteration.
	calls := `
	lddw %r6, 200000
	mov %r7, 0
loop:
	mov %r1, %r6
	call local f
	add %r7, %r0
	sub %r6, 1
	jne %r6, 0, loop
	mov %r0, %r7
	exit
f:
	call local g
	add %r0, 1
	exit
g:
	mov %r0, %r1
	and %r0, 7
	exit`
	for _, budget := range []uint64{0, 1<<20 + 5, 2<<20 + 1} {
		got, err := both(t, calls, vm.Trusted, nil, func() *vm.RunContext { return &vm.RunContext{Budget: budget} })
		if err != nil {
			t.Errorf("calls across chunks, budget %d: %v", budget, err)
		} else if budget == 0 && (got.err != "" || got.r0 != 200000+25*(0+1+2+3+4+5+6+7)*1000) {
			t.Errorf("calls across chunks: %v", got)
		}
	}

	rc = &vm.RunContext{Budget: 1<<20 + 12345}
	_, err = exe.Run(rc)
	if !errors.Is(err, vm.ErrBudgetExceeded) || rc.Executed <= rc.Budget || rc.Executed > rc.Budget+3 {
		t.Errorf("long loop with budget %d: executed %d, %v", rc.Budget, rc.Executed, err)
	}
}

// TestChecked checks that checked runs stop on bad accesses with an error
// naming the instruction and address, exactly as the interpreter does.
func TestChecked(t *testing.T) {
	tests := []struct {
		name, src string
		pc        int
	}{
		{"below the frame", "ldxdw %r0, [%r10-520]", 0},
		{"at the top", "ldxb %r0, [%r10]", 0},
		{"straddles the top", "ldxdw %r0, [%r10-4]", 0},
		{"null", "mov %r1, 0\nldxw %r0, [%r1]", 1},
		{"wild store", "lddw %r1, 0x1000\nstw [%r1], 1", 2},
		{"wild high address", "mov %r1, -1\nldxb %r0, [%r1]", 1},
		{"wraps around", "mov %r1, -2\nldxw %r0, [%r1]", 1},
		{"read-only region", "stb [%r1], 1", 0},
		{"read-only region stx", "stxdw [%r1], %r1", 0},
		{"past the region", "ldxb %r0, [%r1+16]", 0},
		{"misaligned atomic", "mov %r1, 1\nlock add [%r10-7], %r1", 1},
		{"atomic on read-only region", "mov %r2, 1\nlock fetch add [%r1], %r2", 1},
		{"atomic below the frame", "mov %r2, 1\nlock xchg [%r10-520], %r2", 1},
		{"callee reads below its frame", "call local f\nexit\nf:\nldxdw %r0, [%r10-520]\nexit", 2},
		{"caller's dead frame after return", "call local f\nldxdw %r0, [%r2]\nexit\nf:\nmov %r2, %r10\nadd %r2, -8\nexit", 1},
	}
	ro := heapBytes(16)
	setup := func() *vm.RunContext {
		rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("ro", ro, false)}, Value: ro}
		rc.Args[0] = uint64(rc.Regions[0].Start)
		return rc
	}
	for _, tt := range tests {
		got, err := both(t, tt.src+"\nexit", vm.Checked, nil, setup)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
		} else if !strings.HasPrefix(got.err, fmt.Sprintf("instruction %d: ", tt.pc)) {
			t.Errorf("%s: err = %q, want an error at instruction %d", tt.name, got.err, tt.pc)
		}
	}
	// Valid accesses outside the stack and in callers' frames succeed.
	rw := heapBytes(64)
	valid := []string{
		"ldxb %r0, [%r1+15]\nexit",
		"stdw [%r2+56], 7\nmov %r3, 1\nlock fetch add [%r2+56], %r3\nldxdw %r0, [%r2+56]\nexit",
		"stdw [%r10-8], 5\nmov %r1, %r10\ncall local f\nexit\nf:\nldxdw %r0, [%r1-8]\nexit",
		"mov %r3, %r10\nadd %r3, -512\nstdw [%r3], 1\nldxdw %r0, [%r3]\nexit",
	}
	for _, src := range valid {
		got, err := both(t, src, vm.Checked, nil, func() *vm.RunContext {
			rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("ro", ro, false), vm.RegionOf("rw", rw, true)}, Value: [][]byte{ro, rw}}
			rc.Args[0], rc.Args[1] = uint64(rc.Regions[0].Start), uint64(rc.Regions[1].Start)
			return rc
		})
		if err != nil || got.err != "" {
			t.Errorf("%q: %v %v", src, got, err)
		}
	}
}

// TestHelpers checks helper calls, callx and their errors.
func TestHelpers(t *testing.T) {
	sum := func(_ *vm.RunContext, a, b, c, d, e uint64) (uint64, error) { return a + b + c + d + e, nil }
	failing := func(*vm.RunContext, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
		return 0, errors.New("boom")
	}
	depth := func(rc *vm.RunContext, _, _, _, _, _ uint64) (uint64, error) { return uint64(rc.Depth), nil }
	helpers := vm.Helpers{1: sum, 2: failing, 3: depth}
	for _, mode := range modes {
		got, err := compile(t, "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 1\nexit", mode, helpers).Run(&vm.RunContext{})
		if err != nil || got != 15 {
			t.Errorf("call 1 (%v): %d, %v", mode, got, err)
		}
		// Registers survive a helper call; r1-r5 keep their values too, as
		// in the interpreter.
		got, err = compile(t, "mov %r1, 1\nmov %r6, 6\nmov %r9, 9\ncall 1\nadd %r0, %r6\nadd %r0, %r9\nadd %r0, %r1\nexit", mode, helpers).Run(&vm.RunContext{})
		if err != nil || got != 1+6+9+1 {
			t.Errorf("registers across calls (%v): %d, %v", mode, got, err)
		}
		got, err = compile(t, "mov %r1, 7\nmov %r2, 1\ncall %r2\nexit", mode, helpers).Run(&vm.RunContext{})
		if err != nil || got != 8 {
			t.Errorf("callx (%v): %d, %v", mode, got, err)
		}
		got, err = compile(t, "call local f\nexit\nf:\ncall local g\nexit\ng:\ncall 3\nexit", mode, helpers).Run(&vm.RunContext{})
		if err != nil || got != 2 {
			t.Errorf("helper depth (%v): %d, %v", mode, got, err)
		}
		for _, src := range []string{"mov %r2, 99\ncall %r2\nexit", "lddw %r2, 0x100000001\ncall %r2\nexit"} {
			_, err = compile(t, src, mode, helpers).Run(&vm.RunContext{})
			if !errors.Is(err, vm.ErrUnknownHelper) {
				t.Errorf("callx unknown (%v): %v", mode, err)
			}
		}
		rc := &vm.RunContext{}
		_, err = compile(t, "mov %r0, 0\ncall 2\nexit", mode, helpers).Run(rc)
		var ee *vm.ExecError
		if !errors.As(err, &ee) || ee.PC != 1 || !strings.Contains(err.Error(), "boom") || rc.Executed != 2 {
			t.Errorf("failing helper (%v): %v, executed %d", mode, err, rc.Executed)
		}
	}
	prog, _ := isa.Assemble("call 3\nexit")
	if _, err := amd64.New().Compile(&vm.Program{Instructions: prog, Helpers: vm.Helpers{1: sum}}, vm.CompileOptions{}); !errors.Is(err, vm.ErrUnknownHelper) {
		t.Errorf("unknown helper at compile: %v", err)
	}
	kfunc := []isa.Instruction{{Opcode: isa.OpCall, Src: isa.CallKfunc, Imm: 1234}, {Opcode: isa.OpExit}}
	if _, err := amd64.New().Compile(&vm.Program{Instructions: kfunc}, vm.CompileOptions{}); !errors.Is(err, vm.ErrUnsupported) || !strings.Contains(err.Error(), "1234") {
		t.Errorf("kfunc: %v", err)
	}
	mapRef := isa.LoadImm64(isa.R1, isa.PseudoMapFD, 3)
	if _, err := amd64.New().Compile(&vm.Program{Instructions: append(mapRef[:], isa.Instruction{Opcode: isa.OpExit})}, vm.CompileOptions{}); !errors.Is(err, vm.ErrUnsupported) {
		t.Errorf("unresolved map lddw: %v", err)
	}
	if _, err := amd64.New().Compile(&vm.Program{Instructions: []isa.Instruction{{Opcode: 0xff}}}, vm.CompileOptions{}); !errors.Is(err, isa.ErrInvalidProgram) {
		t.Errorf("invalid program: %v", err)
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
		{"mov %r1, 2\nldindb %r1, -1\nadd %r0, 1", 0x23},
		{"ldabsw 2\nmov %r0, 9", 0},
		{"mov %r1, -1\nldindb %r1, 0\nmov %r0, 9", 0},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			got, err := both(t, tt.src+"\nexit", mode, nil, func() *vm.RunContext { return &vm.RunContext{Packet: pkt} })
			if err != nil || got.r0 != tt.want || got.err != "" {
				t.Errorf("%q (%v): %v, %v; want %#x", tt.src, mode, got, err, tt.want)
			}
		}
	}
}

// TestConcurrentRuns runs one executable from many goroutines, each with its
// own context, with atomics on a shared region.
func TestConcurrentRuns(t *testing.T) {
	shared := heapBytes(8)
	for _, mode := range modes {
		clear(shared)
		exe := compile(t, "mov %r2, 1\nlock add [%r1], %r2\nmov %r0, %r10\nexit", mode, nil)
		var wg sync.WaitGroup
		const goroutines, runs = 8, 500
		for range goroutines {
			wg.Go(func() {
				rc := &vm.RunContext{Regions: []vm.Region{vm.RegionOf("shared", shared, true)}, Value: shared}
				rc.Args[0] = uint64(rc.Regions[0].Start)
				for range runs {
					r0, err := exe.Run(rc)
					if err != nil || r0 != rc.Stack().Top() {
						t.Errorf("r0 %#x, %v", r0, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if got := uint64(shared[0]) | uint64(shared[1])<<8; got != goroutines*runs {
			t.Errorf("%v: counter = %d, want %d", mode, got, goroutines*runs)
		}
	}
}

// TestClose checks that a closed executable refuses to run and that Close
// is idempotent.
func TestClose(t *testing.T) {
	prog, _ := isa.Assemble("mov %r0, 1\nexit")
	exe, err := amd64.New().Compile(&vm.Program{Instructions: prog}, vm.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := exe.Close(); err != nil {
		t.Fatal(err)
	}
	if err := exe.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := exe.Run(&vm.RunContext{}); err == nil {
		t.Error("run after close succeeded")
	}
}
