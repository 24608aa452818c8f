// SPDX-License-Identifier: MIT
// More shapes that the Linux kernel (6.18, JIT enabled) accepts and bpfhost
// rejects, found by comparing both verifiers on public networking programs
// (XDP, tc, socket filters, cgroup and lwt programs) compiled with clang-19
// at -mcpu=v1, v2 and v3 (issue 11, second hunt). Every program is accepted
// by the kernel (TestHuntKernel); TestHuntGaps lists what bpfhost still
// rejects.
#include "common.h"

// A function that returns nothing: clang leaves r0 unset before its exit.
// Linux checks r0 only where the caller reads it (a static subprogram's
// exit passes r0 back as it is), so a void helper function is fine.
static __attribute__((noinline)) void set_mark(struct __sk_buff *skb, __u32 mark)
{
	skb->mark = mark;
	skb->priority = mark + 1;
}

// Expected kernel verdict: accept. set_mark's exit has r0 uninitialised and
// the caller never reads it.
SEC("tc")
int void_subprog(struct __sk_buff *skb)
{
	set_mark(skb, 7);
	return TC_ACT_OK;
}

// 304 bytes of stack in the callee and 200 in the caller. Linux rounds each
// frame up to 16 bytes when the program is JITed (32 only for the
// interpreter): 208 + 304 = 512, within MAX_BPF_STACK. Inline assembly keeps
// clang from shrinking the frames.
static __attribute__((used, naked, noinline)) int frame304(void)
{
	asm volatile("r1 = 0;"
		     "*(u64 *)(r10 - 304) = r1;"
		     "r0 = *(u64 *)(r10 - 304);"
		     "exit;" ::: "memory");
}

// Expected kernel verdict: accept (with the JIT; the interpreter's 32-byte
// rounding makes it 224 + 320 = 544).
SEC("tc")
__attribute__((naked)) int stack_chain_512(void)
{
	asm volatile("r1 = 0;"
		     "*(u64 *)(r10 - 200) = r1;"
		     "call frame304;"
		     "r0 = 0;"
		     "exit;" ::: "memory");
}

char _license[] SEC("license") = "GPL";
