// SPDX-License-Identifier: MIT
// Tail calls made in BPF-to-BPF subprograms: the shapes Linux accepts
// (programs named *_ok) and the ones it refuses, each checked against
// bpfhost's verifier (TestTailSubVerdicts) and the kernel
// (TestTailSubKernel). Linux runs the target in place of the subprogram
// and returns its r0 to the caller (docs/decisions/0024).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __naked __attribute__((naked))
#define __imm(name) [name] "i"(name)
#define __imm_addr(name) [name] "i"(&name)

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, 4);
	__uint(value_size, 4);
} jt SEC(".maps");

__attribute__((noinline, used)) __naked static int tsub(void)
{
	asm volatile ("r2 = %[jt] ll; r3 = 0; call %[bpf_tail_call]; r0 = 7; exit;"
	:: __imm(bpf_tail_call), __imm_addr(jt) : "memory");
}

/* The callers' frames must stay below 256 bytes (each rounded to 16). */
SEC("xdp") __naked int stack240_ok(void) { asm volatile ("*(u64 *)(r10 - 240) = 1; call tsub; exit;" ::: "memory"); }
SEC("xdp") __naked int stack248(void) { asm volatile ("*(u64 *)(r10 - 248) = 1; call tsub; exit;" ::: "memory"); }

__attribute__((noinline, used)) __naked static int g112(void)
{
	asm volatile ("*(u64 *)(r10 - 112) = 1; call tsub; exit;" ::: "memory");
}
__attribute__((noinline, used)) __naked static int g136(void)
{
	asm volatile ("*(u64 *)(r10 - 136) = 1; call tsub; exit;" ::: "memory");
}
SEC("xdp") __naked int deep240_ok(void) { asm volatile ("*(u64 *)(r10 - 128) = 1; call g112; exit;" ::: "memory"); }
SEC("xdp") __naked int deep272(void) { asm volatile ("*(u64 *)(r10 - 128) = 1; call g136; exit;" ::: "memory"); }

/* The tail-calling subprogram's own frame does not count; a caller's does. */
__attribute__((noinline, used)) __naked static int big(void)
{
	asm volatile ("*(u64 *)(r10 - 304) = 1; r2 = %[jt] ll; r3 = 0; call %[bpf_tail_call]; r0 = 7; exit;"
	:: __imm(bpf_tail_call), __imm_addr(jt) : "memory");
}
SEC("xdp") __naked int bigown_ok(void) { asm volatile ("*(u64 *)(r10 - 8) = 1; call big; exit;" ::: "memory"); }
__attribute__((noinline, used)) __naked static int bigcaller(void)
{
	asm volatile ("*(u64 *)(r10 - 304) = 1; call tsub; exit;" ::: "memory");
}
SEC("xdp") __naked int bigprev(void) { asm volatile ("*(u64 *)(r10 - 8) = 1; call bigcaller; exit;" ::: "memory"); }

/* A tail call that is never reached counts too. */
__attribute__((noinline, used)) __naked static int deadtail(void)
{
	asm volatile ("r0 = 0; if r0 == 0 goto 1f; r2 = %[jt] ll; r3 = 0; call %[bpf_tail_call]; 1: r0 = 7; exit;"
	:: __imm(bpf_tail_call), __imm_addr(jt) : "memory");
}
SEC("xdp") __naked int deadtail256(void) { asm volatile ("*(u64 *)(r10 - 256) = 1; call deadtail; exit;" ::: "memory"); }

/* Eight frames, the last one tail-calling. */
__attribute__((noinline, used)) __naked static int d6(void) { asm volatile ("call tsub; exit;" ::: "memory"); }
__attribute__((noinline, used)) __naked static int d5(void) { asm volatile ("call d6; exit;" ::: "memory"); }
__attribute__((noinline, used)) __naked static int d4(void) { asm volatile ("call d5; exit;" ::: "memory"); }
__attribute__((noinline, used)) __naked static int d3(void) { asm volatile ("call d4; exit;" ::: "memory"); }
__attribute__((noinline, used)) __naked static int d2(void) { asm volatile ("call d3; exit;" ::: "memory"); }
__attribute__((noinline, used)) __naked static int d1(void) { asm volatile ("call d2; exit;" ::: "memory"); }
SEC("xdp") __naked int deep8_ok(void) { asm volatile ("call d1; exit;" ::: "memory"); }

/* The caller's r0 is the target's: not the 7 of the failed path. */
SEC("xdp") __naked int r0trust(void)
{
	asm volatile ("call tsub; if r0 == 7 goto 1f; r0 = *(u64 *)(r10 + 8); exit; 1: r0 = 0; exit;" ::: "memory");
}

/* A void subprogram's r0 may be left unread. */
__attribute__((noinline, used)) __naked static int tvoid(void)
{
	asm volatile ("r2 = %[jt] ll; r3 = 0; call %[bpf_tail_call]; exit;"
	:: __imm(bpf_tail_call), __imm_addr(jt) : "memory");
}
SEC("xdp") __naked int voidsub_ok(void) { asm volatile ("call tvoid; r0 = 0; exit;" ::: "memory"); }

/* The caller's packet pointers do not survive a tail-calling subprogram. */
SEC("xdp") __naked int pktsub(void)
{
	asm volatile ("r6 = r1; r7 = *(u32 *)(r1 + 0); r8 = *(u32 *)(r1 + 4); r9 = r7; r9 += 1;"
	"if r9 > r8 goto 1f; r1 = r6; call tsub; r0 = *(u8 *)(r7 + 0); exit; 1: r0 = 0; exit;" ::: "memory");
}

/* In the subprogram, a failed tail call leaves them as they were. */
__attribute__((noinline, used)) __naked static int pktfall(void)
{
	asm volatile ("r6 = r1; r7 = *(u32 *)(r1 + 0); r8 = *(u32 *)(r1 + 4); r9 = r7; r9 += 1;"
	"if r9 > r8 goto 1f; r1 = r6; r2 = %[jt] ll; r3 = 0; call %[bpf_tail_call]; r0 = *(u8 *)(r7 + 0); exit; 1: r0 = 0; exit;"
	:: __imm(bpf_tail_call), __imm_addr(jt) : "memory");
}
SEC("xdp") __naked int pktfall_ok(void) { asm volatile ("call pktfall; r0 = 0; exit;" ::: "memory"); }

/* No tail call in a callback, nor in what a callback calls. */
__attribute__((noinline, used)) __naked static int cb(void)
{
	asm volatile ("r1 = *(u64 *)(r2 + 0); r2 = %[jt] ll; r3 = 0; call %[bpf_tail_call]; r0 = 0; exit;"
	:: __imm(bpf_tail_call), __imm_addr(jt) : "memory");
}
SEC("xdp") __naked int loopcb(void)
{
	asm volatile ("*(u64 *)(r10 - 8) = r1; r3 = r10; r3 += -8; r1 = 2; r2 = %[cb] ll; r4 = 0; call %[bpf_loop]; r0 = 0; exit;"
	:: __imm(bpf_loop), __imm_addr(cb) : "memory");
}
__attribute__((noinline, used)) __naked static int cb2(void)
{
	asm volatile ("r1 = *(u64 *)(r2 + 0); call tsub; r0 = 0; exit;" ::: "memory");
}
SEC("xdp") __naked int loopcb2(void)
{
	asm volatile ("*(u64 *)(r10 - 8) = r1; r3 = r10; r3 += -8; r1 = 2; r2 = %[cb2] ll; r4 = 0; call %[bpf_loop]; r0 = 0; exit;"
	:: __imm(bpf_loop), __imm_addr(cb2) : "memory");
}
