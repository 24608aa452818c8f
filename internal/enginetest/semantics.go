package enginetest

import (
	"testing"

	"github.com/bpfhost/bpfhost/vm"
)

// semantics are programs that leave their answer in r0, one or more per
// instruction family. Rows that name x86 registers (rdx, cl, sil) aim at
// corners of the JIT's register use; the answers hold for every engine.
var semantics = []struct {
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

// Semantics checks each instruction family against RFC 9669, in both memory
// modes: every program must run without error and leave the answer in r0.
func Semantics(t *testing.T, e vm.Engine) {
	for _, mode := range modes {
		for _, tt := range semantics {
			got, err := compile(t, e, withExit(tt.src), mode, nil).Run(&vm.RunContext{})
			if err != nil {
				t.Errorf("%s (%v): %v", tt.name, mode, err)
			} else if got != tt.want {
				t.Errorf("%s (%v): r0 = %#x, want %#x", tt.name, mode, got, tt.want)
			}
		}
	}
}
