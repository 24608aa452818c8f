package verifier

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost/isa"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// The attacks on decision 0046's widened acceptance: unsigned 32-bit facts
// (sub32.go), sized helper returns (retrange.go), pointer differences
// (pointerDiff), socket views (sockcommon.go), narrower fills
// (narrowfill.go), signed left shifts (ivLsh), counted bpf_loop calls and
// returns kept apart (callexits.go). None escaped; they stay as
// regression tests, each accepted one run under the containment oracle
// where bpfhost runs its program type.

// precAttack is an attack program: XDP with fuzzMaps (map 0) unless typ
// says kprobe or tc; "FULL", "TCP", "LOOKUP" and "RELEASE" stand for
// the socket helpers as in sockViewCases.
type precAttack struct {
	name, typ, text string
	accept          bool
	// notLinux: Linux's verdict is the other one, for this reason.
	notLinux string
}

// wide6 leaves in r6 a random number with random upper bits, so that a
// 32-bit test of it can only record a fact about its low half.
const wide6 = `
call 7
mov %r6, %r0
lsh %r6, 32
call 7
or %r6, %r0
`

// storeAtR2 writes a byte at r10-4 plus r2: in the frame for r2 in [0, 3].
const storeAtR2 = `
mov %r1, %r10
add %r1, -4
add %r1, %r2
stb [%r1+0], 0
out:
mov %r0, 2
exit`

// badWrite ends a program with a write outside the frame at label bad,
// which a verifier may accept only where it proves bad unreachable.
const badWrite = `
mov %r0, 2
exit
bad:
stb [%r10+0], 0
mov %r0, 2
exit`

// linuxTnum is why Linux accepts the low half of a number shifted left
// by 32 as 0.
const linuxTnum = "Linux's tnum knows the low half of a number shifted left by 32 is 0; bpfhost's intervals do not (decision 0046: a tnum case left)"

// linuxPtrLow is why Linux accepts a 32-bit difference involving a
// packet pointer's low half taken before the packet moved.
const linuxPtrLow = "Linux makes a pointer's low half an unknown number (for privileged programs only); bpfhost keeps it a packet pointer's, which the packet's move invalidates"

// linuxSpillNull is why Linux accepts a reload of a register's spill
// checked against NULL: the spill keeps the register's id.
const linuxSpillNull = "Linux marks a spilled copy of a maybe-NULL socket when the register is checked; bpfhost does not tie the copies"

var precAttacks = []precAttack{
	// 1. Unsigned 32-bit facts beside the signed ones.
	{"jmp32 between registers, the operand its own low half", "", `
call 7
mov %r6, %r0
call 7
and %r0, 3
jgt32 %r6, %r0, out
mov %r2, %r6` + storeAtR2, true, "Linux 6.18 learns nothing here from a 32-bit test against a register that is not a constant"},
	{"jmp32 between registers, the operand with upper bits used as 64 bits", "", wide6 + `
call 7
and %r0, 3
jgt32 %r6, %r0, out
mov %r2, %r6` + storeAtR2, false, ""},
	{"jeq32 with a small register, the operand with upper bits used as 64 bits", "", wide6 + `
call 7
and %r0, 3
jne32 %r6, %r0, out
mov %r2, %r6` + storeAtR2, false, ""},
	{"a 32-bit fact read by mov32", "", wide6 + `
jgt32 %r6, 3, out
mov32 %r2, %r6` + storeAtR2, true, ""},
	{"a 32-bit fact after a 64-bit add", "", wide6 + `
jgt32 %r6, 3, out
add %r6, 1
mov32 %r2, %r6` + storeAtR2, false, ""},
	{"a 32-bit fact after a 64-bit shift", "", wide6 + `
jgt32 %r6, 3, out
lsh %r6, 1
mov32 %r2, %r6` + storeAtR2, false, ""},
	{"a 32-bit fact after a byte swap", "", wide6 + `
jgt32 %r6, 3, out
be64 %r6
mov32 %r2, %r6` + storeAtR2, false, ""},
	{"a 32-bit fact after a sign-extending move", "", wide6 + `
jgt32 %r6, 3, out
movsx864 %r6, %r6
mov32 %r2, %r6` + storeAtR2, false, "Linux knows the low byte from the 32-bit bounds; bpfhost drops the fact at the move (sound, less precise)"},
	{"a 32-bit fact after an exchange", "", wide6 + `
jgt32 %r6, 3, out
stdw [%r10-8], 100
lock xchg [%r10-8], %r6
mov32 %r2, %r6` + storeAtR2, false, ""},
	{"a 32-bit fact after a load", "", wide6 + `
jgt32 %r6, 3, out
stdw [%r10-8], 100
ldxdw %r6, [%r10-8]
mov32 %r2, %r6` + storeAtR2, false, ""},
	{"a 32-bit fact on one path only", "", wide6 + `
call 7
jeq %r0, 0, a
jgt32 %r6, 3, out
ja j
a:
jgt32 %r6, 200, out
j:
mov32 %r2, %r6` + storeAtR2, false, ""},
	{"a signed 32-bit fact read as unsigned", "", wide6 + `
jsgt32 %r6, 3, out
mov32 %r2, %r6` + storeAtR2, false, ""},
	{"a 32-bit fact of a copy's source survives the copy's change", "", wide6 + `
jgt32 %r6, 3, out
mov %r7, %r6
add %r7, 1
mov32 %r2, %r6` + storeAtR2, true, ""},
	{"jmp32 of a copy against the register with the fact", "", wide6 + `
mov %r7, %r6
jgt32 %r6, 3, out
jgt32 %r7, %r6, out
mov32 %r2, %r7` + storeAtR2, true, ""},
	{"jsgt32 of a random u32 against -3 leaves the top of its range", "", `
call 7
jsgt32 %r0, -3, t
mov %r0, 2
exit
t:
jgt %r0, 0x7fffffff, bad` + badWrite, false, ""},
	{"jsgt32 of a random u32 against a register holding -3", "", `
call 7
mov %r6, %r0
mov %r7, -3
jsgt32 %r6, %r7, t
mov %r0, 2
exit
t:
jgt %r6, 0x7fffffff, bad` + badWrite, false, ""},
	{"jsge32 of a random u32 against a register in [-4, 3]", "", `
call 7
mov %r6, %r0
call 7
and %r0, 7
add %r0, -4
jsge32 %r6, %r0, t
mov %r0, 2
exit
t:
jgt %r6, 0x7fffffff, bad` + badWrite, false, ""},
	{"jset32 of the sign bit", "", `
call 7
jset32 %r0, 0x80000000, t
mov %r0, 2
exit
t:
jlt %r0, 0x80000000, bad` + badWrite, false, ""},
	{"jmp32 then arsh32", "", `
call 7
jgt32 %r0, 7, out
arsh32 %r0, 1
mov %r2, %r0` + storeAtR2, true, ""},
	{"jmp32 then movsx 32 to 64", "", `
call 7
jgt32 %r0, 3, out
movsx3264 %r2, %r0` + storeAtR2, true, ""},
	{"alu32 wraps below 0", "", `
call 7
and %r0, 3
add32 %r0, -1
mov %r2, %r0` + storeAtR2, false, ""},
	{"sub32 wraps below 0", "", `
call 7
and %r0, 3
mov %r2, 2
sub32 %r2, %r0` + storeAtR2, false, ""},
	{"lsh32 by 31 then arsh32 by 31 is 0 or -1 as 32 bits", "", `
call 7
and %r0, 1
lsh32 %r0, 31
arsh32 %r0, 31
add %r0, 1
mov %r2, %r0` + storeAtR2, false, ""},
	{"lsh by 63 then arsh by 63 is 0 or -1", "", `
call 7
and %r0, 1
lsh %r0, 63
arsh %r0, 63
add %r0, 1
mov %r2, %r0` + storeAtR2, true, ""},
	{"a signed range shifted left into the sign bit", "", `
call 7
and %r0, 3
add %r0, -1
lsh %r0, 62
arsh %r0, 62
add %r0, 1
mov %r2, %r0` + storeAtR2, true, ""},
	{"w = w of a number shifted left by 32 (not known 0)", "", `
call 7
and %r0, 7
lsh %r0, 32
mov32 %r2, %r0
add %r2, 3` + storeAtR2, false, linuxTnum},

	// 2. Sized returns: readStr16's r0 is at most 16 or an errno.
	{"a string read's length after an unsigned check only", "kprobe", readStr16 + `
jgt %r0, 16, out
add %r1, %r0
stb [%r1-1], 0
out:
mov %r0, 0
exit`, true, ""},
	{"a string read's length after a signed upper check only", "kprobe", readStr16 + `
jsgt %r0, 16, out
add %r1, %r0
stb [%r1-1], 0
out:
mov %r0, 0
exit`, false, ""},
	{"a string read's length after a 32-bit sign check", "kprobe", readStr16 + `
jslt32 %r0, 0, out
add %r1, %r0
stb [%r1-1], 0
out:
mov %r0, 0
exit`, true, ""},
	{"a string read's length after a 32-bit signed upper check only", "kprobe", readStr16 + `
jsgt32 %r0, 16, out
add %r1, %r0
stb [%r1-1], 0
out:
mov %r0, 0
exit`, false, ""},
	{"a string read's errno as an offset", "kprobe", readStr16 + `
jsge %r0, 0, out
add %r1, %r0
stb [%r1+0], 0
out:
mov %r0, 0
exit`, false, ""},
	{"a string read's errno negated as an offset", "kprobe", readStr16 + `
jsge %r0, 0, out
neg %r0
mov %r1, %r10
add %r1, -4096
add %r1, %r0
stb [%r1+0], 0
out:
mov %r0, 0
exit`, false, ""},
	{"a string read's length zero-extended, checked signed", "kprobe", readStr16 + `
mov32 %r0, %r0
jsgt %r0, 16, out
add %r1, %r0
stb [%r1-1], 0
out:
mov %r0, 0
exit`, true, ""},
	{"a string read of a size in [2, 17] into 16 bytes", "kprobe", `
call 7
and %r0, 15
add %r0, 2
mov %r2, %r0
mov %r1, %r10
add %r1, -17
mov %r3, 0
call 115
mov %r1, %r10
add %r1, -16
jslt %r0, 0, out
add %r1, %r0
stb [%r1-1], 0
out:
mov %r0, 0
exit`, false, ""},

	// 3. Pointer differences.
	{"the difference of two lookups at one call site (a subprogram called twice)", "", `
call 7
and %r0, 3
stxw [%r10-4], %r0
mov %r1, %r10
add %r1, -4
call local get
jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r10
add %r1, -4
call local get
jeq %r0, 0, out
mov %r7, %r0
sub %r7, %r6
mov %r2, %r10
add %r2, -16
add %r2, %r7
stdw [%r2+0], 0
out:
mov %r0, 2
exit
get:
mov %r2, %r1
lddw %r1, 0
call 1
exit`, false, ""},
	{"the difference of two lookups at one call site (a loop)", "", `
mov %r8, 0
mov %r6, 0
loop:
stxw [%r10-4], %r8
mov %r2, %r10
add %r2, -4
lddw %r1, 0
call 1
jeq %r0, 0, out
jeq %r8, 1, second
mov %r6, %r0
add %r8, 1
ja loop
second:
sub %r0, %r6
mov %r2, %r10
add %r2, -16
add %r2, %r0
stdw [%r2+0], 0
out:
mov %r0, 2
exit`, false, ""},
	{"a callee's frame pointer left in the caller's frame, subtracted in the next callee", "", `
mov %r1, %r10
add %r1, -8
call local f
mov %r1, %r10
add %r1, -8
call local g
mov %r0, 2
exit
f:
mov %r2, %r10
add %r2, -64
stxdw [%r1+0], %r2
mov %r0, 0
exit
g:
ldxdw %r2, [%r1+0]
mov %r3, %r10
add %r3, -8
sub %r3, %r2
mov %r4, %r10
add %r4, -64
add %r4, %r3
stdw [%r4+0], 0
mov %r0, 0
exit`, false, ""},
	{"the difference of two pointers into one map value", "", `
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0
call 1
jeq %r0, 0, out
mov %r6, %r0
add %r6, 8
mov %r7, %r0
sub %r6, %r7
add %r0, %r6
stdw [%r0+0], 0
out:
mov %r0, 2
exit`, true, linuxPtrDiff},
	{"the difference of two pointers into one map value, one byte more", "", `
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0
call 1
jeq %r0, 0, out
mov %r6, %r0
add %r6, 9
mov %r7, %r0
sub %r6, %r7
add %r0, %r6
stdw [%r0+0], 0
out:
mov %r0, 2
exit`, false, ""},
	{"a 32-bit difference of two pointers into one map value, wrapped", "", `
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, 0
call 1
jeq %r0, 0, out
mov %r6, %r0
add %r6, 8
mov %r7, %r0
sub32 %r7, %r6
add %r0, %r7
stb [%r0+0], 0
out:
mov %r0, 2
exit`, false, ""},
	{"packet pointers' low halves before and after bpf_xdp_adjust_head", "", `
mov %r6, %r1
ldxw %r7, [%r6+0]
mov32 %r8, %r7
mov %r1, %r6
mov %r2, 8
call 44
ldxw %r2, [%r6+0]
mov32 %r3, %r2
sub32 %r3, %r8
mov %r0, 2
exit`, false, linuxPtrLow},
	{"a packet pointer's low half spilled across bpf_xdp_adjust_head", "", `
mov %r6, %r1
ldxw %r7, [%r6+0]
mov32 %r8, %r7
stxdw [%r10-8], %r8
mov %r1, %r6
mov %r2, 8
call 44
ldxdw %r8, [%r10-8]
ldxw %r2, [%r6+0]
mov32 %r3, %r2
sub32 %r3, %r8
mov %r0, 2
exit`, false, linuxPtrLow},

	// 4. Socket views.
	{"releasing a view", "tc", `
ldxdw %r1, [%r1+168]
jeq %r1, 0, out
call FULL
jeq %r0, 0, out
mov %r1, %r0
call RELEASE
out:
mov %r0, 0
exit`, false, ""},
	{"a view of a view of a view", "tc", `
ldxdw %r1, [%r1+168]
jeq %r1, 0, out
call TCP
jeq %r0, 0, out
mov %r1, %r0
call FULL
jeq %r0, 0, out
mov %r1, %r0
call TCP
jeq %r0, 0, out
ldxw %r0, [%r0+100]
out:
mov %r0, 0
exit`, true, ""},
	{"a read across the end of bpf_tcp_sock", "tc", `
ldxdw %r1, [%r1+168]
jeq %r1, 0, out
call TCP
jeq %r0, 0, out
ldxdw %r0, [%r0+104]
out:
mov %r0, 0
exit`, false, ""},
	{"a looked-up socket or the context's, joined, then viewed and released", "tc", `
mov %r9, %r1
stdw [%r10-8], 0
stdw [%r10-16], 0
stdw [%r10-24], 0
stdw [%r10-32], 0
stdw [%r10-40], 0
mov %r2, %r10
add %r2, -40
mov %r3, 36
mov %r4, -1
mov %r5, 0
call LOOKUP
jeq %r0, 0, out
mov %r6, %r0
mov %r7, %r0
mov %r8, 0
call 7
jeq %r0, 0, join
ldxdw %r7, [%r9+168]
jeq %r7, 0, rel
join:
mov %r1, %r7
call FULL
mov %r8, %r0
rel:
mov %r1, %r6
call RELEASE
jeq %r8, 0, out
ldxw %r0, [%r8+8]
out:
mov %r0, 0
exit`, false, ""},
	{"arithmetic on a view", "tc", `
ldxdw %r1, [%r1+168]
jeq %r1, 0, out
call FULL
jeq %r0, 0, out
add %r0, 8
ldxw %r0, [%r0+0]
out:
mov %r0, 0
exit`, false, ""},
	{"the context's socket reloaded from a spill made before its NULL check", "tc", `
ldxdw %r1, [%r1+168]
stxdw [%r10-8], %r1
jeq %r1, 0, out
ldxdw %r1, [%r10-8]
call FULL
jeq %r0, 0, out
ldxw %r0, [%r0+8]
out:
mov %r0, 0
exit`, false, linuxSpillNull},

	// 5. Narrower fills.
	{"a 32-bit fill after the spill's low byte is overwritten", "", `
call 7
and %r0, 3
stxdw [%r10-8], %r0
stb [%r10-8], -1
ldxw %r2, [%r10-8]` + storeAtR2, false, ""},
	{"a 32-bit fill of a number shifted left by 32 after a byte of it is overwritten", "", `
call 7
lsh %r0, 32
stxdw [%r10-8], %r0
stb [%r10-8], 1
ldxw %r2, [%r10-8]` + storeAtR2, false, ""},
	{"a byte fill of a spilled 0 where a byte was overwritten", "", `
stdw [%r10-8], 0
stb [%r10-5], 100
ldxb %r2, [%r10-5]` + storeAtR2, false, ""},
	{"a 32-bit fill of a spilled 0 a register's byte overwrote", "", `
call 7
stdw [%r10-8], 0
stxb [%r10-5], %r0
ldxw %r2, [%r10-8]` + storeAtR2, false, ""},
	{"a 64-bit fill of a 32-bit spilled 0 and 32 other bytes", "", `
mov %r0, 0
stxw [%r10-8], %r0
stw [%r10-4], 5
ldxdw %r2, [%r10-8]` + storeAtR2, false, ""},
	{"a 32-bit fill of a spilled number in [-1, 0]", "", `
call 7
and %r0, 1
add %r0, -1
stxdw [%r10-8], %r0
ldxw %r2, [%r10-8]
jgt %r2, 1, bad
mov %r0, 2
exit
bad:
stb [%r10+0], 0
mov %r0, 2
exit`, false, ""},
	{"a 32-bit fill of a spilled number past 2^32", "", `
call 7
mov %r1, -1
rsh %r1, 32
add %r0, %r1
stxdw [%r10-8], %r0
ldxw %r2, [%r10-8]
jgt %r2, 100, good
stb [%r10+0], 0
good:
mov %r0, 2
exit`, false, ""},
	{"a fill of the upper half of a spilled number in [-1, 0]", "", `
call 7
and %r0, 1
add %r0, -1
stxdw [%r10-8], %r0
ldxw %r2, [%r10-4]
jne %r2, 0, bad
mov %r0, 2
exit
bad:
stb [%r10+0], 0
mov %r0, 2
exit`, false, ""},
	{"a 32-bit fill of a spilled context pointer", "", `
stxdw [%r10-8], %r1
ldxw %r2, [%r10-8]
ldxw %r0, [%r2+0]
mov %r0, 2
exit`, false, ""},
	{"a fill tied to its spill, then the spill overwritten", "", `
call 7
and %r0, 3
stxdw [%r10-8], %r0
ldxw %r7, [%r10-8]
stw [%r10-8], -1
ldxdw %r8, [%r10-8]
jgt %r8, 3, bad
mov %r0, 2
exit
bad:
mov %r2, %r7` + storeAtR2, true, ""},
	{"a 32-bit fill tested, then the spill's low byte overwritten and filled whole", "", `
call 7
stxdw [%r10-8], %r0
ldxw %r7, [%r10-8]
jgt %r7, 3, out
stb [%r10-8], -1
ldxdw %r2, [%r10-8]` + storeAtR2, false, ""},
	{"a 16-bit fill tested, the 64-bit spill filled", "", `
call 7
stxdw [%r10-8], %r0
ldxh %r7, [%r10-8]
jgt %r7, 3, out
ldxdw %r2, [%r10-8]` + storeAtR2, false, ""},
	{"a 32-bit fill after an atomic add to the spill", "", `
call 7
and %r0, 3
stxdw [%r10-8], %r0
mov %r3, 1000
lock add [%r10-8], %r3
ldxw %r2, [%r10-8]` + storeAtR2, false, ""},
	{"a 16-bit fill after a 32-bit atomic add to the spill", "", `
call 7
and %r0, 3
stxdw [%r10-8], %r0
mov %r3, 1000
lock add32 [%r10-8], %r3
ldxh %r2, [%r10-8]` + storeAtR2, false, ""},
	{"a byte fill after a fetching atomic add to the spill", "", `
call 7
and %r0, 3
stxdw [%r10-8], %r0
mov %r3, 1000
lock fetch add [%r10-8], %r3
ldxb %r2, [%r10-8]` + storeAtR2, false, ""},
	{"a 32-bit fill after a cmpxchg on the spill", "", `
call 7
and %r0, 3
stxdw [%r10-8], %r0
mov %r3, 1000
lock cmpxchg [%r10-8], %r3
ldxw %r2, [%r10-8]` + storeAtR2, false, ""},
	// The kernel differential's precision programs, seed 44, program 3996:
	// a zero-extended 32-bit value plus 0x7fffffff is above 15 whatever
	// the 32-bit tests between registers say of its low half, so the
	// lookup's result (maybe NULL) plus it is never read; plus 15 it is.
	{"a wide sum tested above 15 after 32-bit tests guards a NULL lookup", "", deadAfterWideAdd(0x7fffffff), true,
		"Linux 6.18 explores the read (pointer arithmetic on map_value_or_null): it loses the sum's 64-bit bounds at the 32-bit test between registers"},
	{"the same sum that can be 15 does not", "", deadAfterWideAdd(15), false, ""},
	{"a sign-extending byte fill of a spilled byte", "", `
call 7
and %r0, 255
stxdw [%r10-8], %r0
ldxsb %r2, [%r10-8]
add %r2, 4` + storeAtR2, false, ""},
}

// deadAfterWideAdd is the program of the kernel differential's finding
// with imm added to the zero-extended low half of a random number before
// the test against 15 that guards reading through a lookup's unchecked
// result (at a random key: maybe NULL) plus that number.
func deadAfterWideAdd(imm int) string {
	return fmt.Sprintf(`
call 7
stxw [%%r10-4], %%r0
mov %%r2, %%r10
add %%r2, -4
lddw %%r1, 0
call 1
mov %%r7, %%r0
call 5
mov %%r8, %%r0
call 5
mov %%r9, %%r0
xor32 %%r8, 1
add %%r8, %d
jslt32 %%r8, %%r9, l3
jset %%r8, 1, l3
l3:
jgt %%r8, 15, out
mov %%r1, %%r7
add %%r1, %%r8
ldxb %%r0, [%%r1+0]
out:
mov %%r0, 2
exit`, imm)
}

// precAttackProgram assembles an attack.
func precAttackProgram(t *testing.T, c precAttack) []isa.Instruction {
	t.Helper()
	text := strings.NewReplacer(
		"FULL", fmt.Sprint(int(linux.FnSkFullsock)),
		"TCP", fmt.Sprint(int(linux.FnTcpSock)),
		"LOOKUP", fmt.Sprint(int(linux.FnSkLookupTcp)),
		"RELEASE", fmt.Sprint(int(linux.FnSkRelease)),
	).Replace(c.text)
	return assembleMaps(t, text)
}

// TestPrecisionAttacks: bpfhost gives each of precAttacks its verdict, and
// the accepted XDP ones run 30 times in the checked interpreter under the
// containment oracle, which checks every fact (32-bit ones too) against
// the concrete registers.
func TestPrecisionAttacks(t *testing.T) {
	for i, c := range precAttacks {
		typ := c.typ
		if typ == "" {
			typ = "xdp"
		}
		info, ok := linux.Lookup(typ)
		if !ok {
			t.Fatalf("no %s program type", typ)
		}
		prog := precAttackProgram(t, c)
		_, err := Verify(prog, Options{Type: info, ABI: linux.ABI(), Maps: fuzzMaps})
		if (err == nil) != c.accept {
			t.Errorf("%s: %v, want accepted %v", c.name, err, c.accept)
			continue
		}
		if !c.accept || typ != "xdp" {
			continue
		}
		h := &harness{t: t, info: info, rng: rand.New(rand.NewPCG(uint64(i), 46))}
		for range 30 {
			if v := h.try(prog, fuzzMaps); v != nil {
				h.fail(v)
				break
			}
		}
		if h.accepted == 0 {
			t.Errorf("%s: the harness did not run it", c.name)
		}
	}
}

// nestedBPFLoopCount is a tc program: bpf_loop(outer) of a callback that
// adds 1 to the caller's r10-8 and runs bpf_loop(inner) of a callback
// that adds 1 to it too; then a byte write at r10-buf-1 plus the count
// (outer*(inner+1) at most: in the frame for buf at least that).
func nestedBPFLoopCount(outer, inner, buf int) string {
	return fmt.Sprintf(`
	stdw [r10-8], 0
	mov r1, %d
	lddw r2, 0x7777
	mov r3, r10
	add r3, -8
	mov r4, 0
	call 181
	ldxdw r1, [r10-8]
	mov r2, r10
	add r2, -%d
	add r2, r1
	stb [r2-1], 0
	mov r0, 0
	exit
cb0:
	mov r6, r2
	ldxdw r1, [r2+0]
	add r1, 1
	stxdw [r2+0], r1
	mov r1, %d
	lddw r2, 0x7777
	mov r3, r6
	mov r4, 0
	call 181
	mov r0, 0
	exit
cb1:
	ldxdw r1, [r2+0]
	add r1, 1
	stxdw [r2+0], r1
	mov r0, 0
	exit`, outer, buf, inner)
}

// loopIndexOffset is a tc program: bpf_loop of count calls (a constant,
// or a random number and count) of a callback that writes 8 bytes at the
// caller's r10-32 plus 8 times its index.
func loopIndexOffset(count int, random bool) string {
	set := fmt.Sprintf("mov r1, %d", count)
	if random {
		set = fmt.Sprintf("call 7\n\tmov r1, r0\n\tand r1, %d", count)
	}
	return fmt.Sprintf(`
	%s
	lddw r2, 0x7777
	mov r3, r10
	add r3, -32
	mov r4, 0
	call 181
	mov r0, 0
	exit
cb:
	lsh r1, 3
	add r2, r1
	stdw [r2+0], 7
	mov r0, 0
	exit`, set)
}

// loopLookupsDiff is a tc program: bpf_loop(2) of a callback that looks
// up a random key of map 0 at one call site and keeps the value in the
// caller's r10-16 (first call) or r10-8 (second); the caller subtracts
// the two, which point into two elements, and uses that as an offset.
const loopLookupsDiff = `
	stdw [r10-8], 0
	stdw [r10-16], 0
	mov r1, 2
	lddw r2, 0x7777
	mov r3, r10
	add r3, -16
	mov r4, 0
	call 181
	ldxdw r6, [r10-16]
	ldxdw r7, [r10-8]
	jeq r6, 0, out
	jeq r7, 0, out
	sub r7, r6
	mov r1, r10
	add r1, -64
	add r1, r7
	stb [r1+0], 0
out:
	mov r0, 0
	exit
cb:
	mov r6, r2
	mov r7, r1
	call 7
	and r0, 3
	stxw [r10-4], r0
	mov r2, r10
	add r2, -4
	lddw r1, 0
	call 1
	jeq r0, 0, ret
	jeq r7, 0, first
	stxdw [r6+8], r0
	ja ret
first:
	stxdw [r6+0], r0
ret:
	mov r0, 0
	exit`

// TestBPFLoopCountedAttacks: the calls of nested bpf_loops of small counts
// are followed exactly, a callback's index is its round's: each bound is
// met exactly, one byte or one call more is refused.
func TestBPFLoopCountedAttacks(t *testing.T) {
	for _, n := range []struct {
		outer, inner, buf int
		accept            bool
	}{
		{4, 4, 20, true}, {4, 4, 19, false}, {3, 5, 18, true}, {3, 5, 17, false}, {32, 2, 96, true}, {32, 2, 95, false},
	} {
		err := iterVerify(t, nestedBPFLoopCount(n.outer, n.inner, n.buf))
		if (err == nil) != n.accept {
			t.Errorf("nested bpf_loop(%d) of bpf_loop(%d), %d bytes: %v, want accepted %v", n.outer, n.inner, n.buf, err, n.accept)
		}
	}
	for _, n := range []struct {
		count  int
		random bool
		accept bool
	}{
		{4, false, true}, {4, true, true}, {5, false, false}, {5, true, false},
	} {
		err := iterVerify(t, loopIndexOffset(n.count, n.random))
		if (err == nil) != n.accept {
			t.Errorf("callback index as an offset, count %d (random %v): %v, want accepted %v", n.count, n.random, err, n.accept)
		}
	}
	// Values from one call site in two calls of a callback followed one by
	// one are two objects.
	if err := iterVerifyMaps(t, loopLookupsDiff, fuzzMaps); err == nil {
		t.Error("the difference of two calls' lookups used as an offset: accepted")
	}
}

// callExitTree is a program whose calls' returns are kept apart at every
// level: f_k calls f_(k+1) fanout times, each on a slot of its own frame
// that it copies to its caller's slot where the call succeeded, and
// returns whether one did; the leaf is callExitGet; the entry reads
// through its slot where f1 succeeded.
func callExitTree(depth, fanout int) string {
	var b strings.Builder
	b.WriteString("stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\ncall local f1\njeq %r0, 0, out\nldxdw %r1, [%r10-8]\nldxb %r0, [%r1+15]\nout:\nmov %r0, 2\nexit\n")
	for k := 1; k < depth; k++ {
		fmt.Fprintf(&b, "f%d:\nmov %%r7, %%r1\nmov %%r8, 0\n", k)
		for i := 1; i <= fanout; i++ {
			fmt.Fprintf(&b, "stdw [%%r10-%d], 0\nmov %%r1, %%r10\nadd %%r1, -%d\ncall local f%d\n", 8*i, 8*i, k+1)
			fmt.Fprintf(&b, "jeq %%r0, 0, s%d_%d\nldxdw %%r1, [%%r10-%d]\nstxdw [%%r7+0], %%r1\nmov %%r8, 1\ns%d_%d:\n", k, i, 8*i, k, i)
		}
		b.WriteString("mov %r0, %r8\nexit\n")
	}
	fmt.Fprintf(&b, "f%d:\n%s\n", depth, strings.TrimPrefix(strings.TrimSpace(callExitGet), "get:\n"))
	return b.String()
}

// nestedBPFLoops is a tc program: depth bpf_loops of 32 calls nested in
// each other's callbacks, each callback adding 1 to the entry's r10-8.
func nestedBPFLoops(depth int) string {
	src := "\tstdw [r10-8], 0\n\tmov r2, r10\n\tadd r2, -8\n"
	for d := range depth {
		src += fmt.Sprintf(`
	mov r1, 32
	mov r3, r2
	lddw r2, 0x7777
	mov r4, 0
	call 181
	mov r0, 0
	exit
cb%d:
	ldxdw r1, [r2+0]
	add r1, 1
	stxdw [r2+0], r1
`, d)
	}
	return src + "\tmov r0, 0\n\texit\n"
}

// TestPrecisionAttackCost: the shapes that multiply the work of the new
// precision (returns kept apart at every call level; bpf_loops of 32
// calls followed one by one, nested) end at the instruction limit, not
// in memory or time; smaller ones are accepted. On this machine, at the
// default limit (1M), the tree of 6 levels of 4 calls stops after 2 s
// with 15 MB of heap at most, 4 nested loops after 1.5 s; the test lowers
// the limit to stay fast (no assertion on time: the limit is a count).
func TestPrecisionAttackCost(t *testing.T) {
	info := xdpInfo(t)
	verifyTree := func(depth, fanout int, lim Limits) (*Result, error) {
		prog := assembleMaps(t, callExitTree(depth, fanout))
		return Verify(prog, Options{Type: info, ABI: linux.ABI(), Maps: fuzzMaps, Limits: untimed(lim)})
	}
	res, err := verifyTree(3, 4, Limits{})
	if err != nil {
		t.Fatalf("a tree of 3 levels of 4 calls: %v", err)
	}
	t.Logf("a tree of 3 levels of 4 calls: %d instructions processed, %d KB kept at most", res.Processed, res.PeakStateBytes>>10)
	_, err = verifyTree(6, 4, Limits{MaxInstructions: 100_000})
	if le := limitOf(t, err); le.Limit != "instructions" {
		t.Errorf("a tree of 6 levels of 4 calls stopped at %q, want the instruction limit", le.Limit)
	}
	if err := iterVerify(t, nestedBPFLoops(2)); err != nil {
		t.Fatalf("2 nested bpf_loops: %v", err)
	}
}
