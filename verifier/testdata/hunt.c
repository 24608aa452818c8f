// SPDX-License-Identifier: MIT
// Shapes that the Linux kernel (6.18) accepts and bpfhost rejects, found by
// comparing both verifiers on public XDP/tc/socket/tracing programs
// compiled with clang-19 (issue 11). Compiled twice: hunt.o with -mcpu=v4
// (clang then stores constants with BPF_ST) and hunt-v1.o with -mcpu=v1
// (32-bit counters zero-extended by shifts). Every program of both is
// accepted by the kernel (TestHuntKernel); TestHuntGaps lists what bpfhost
// still rejects.
#include "common.h"
#include <linux/ptrace.h>

// Expected kernel verdict: accept. With -mcpu=v4, `skb->cb[0] = 3` is
// `*(u32 *)(r1 + 48) = 3`, a BPF_ST into the context; Linux allows it since
// 6.3 and rewrites it like a register store. Linux samples/bpf sockex3 and
// iproute2's tail-call example do this.
SEC("tc")
int ctx_store_imm(struct __sk_buff *skb)
{
	skb->cb[0] = 3;
	skb->mark = 7;
	return TC_ACT_OK;
}

// Expected kernel verdict: accept. The same BPF_ST into a sock_addr context
// field, whose host layout differs (user_port).
SEC("cgroup/recvmsg4")
int sock_addr_store_imm(struct bpf_sock_addr *ctx)
{
	ctx->user_port = bpf_htons(53);
	return 1;
}

// Expected kernel verdict: accept. The source of bpf_probe_read_kernel is
// ARG_ANYTHING in Linux: a pointer into the context is allowed (the read
// is fault tolerant). Tracing programs read tracepoint fields this way.
SEC("tracepoint/syscalls/sys_enter_write")
int probe_read_ctx(void *ctx)
{
	__u64 fd;

	bpf_probe_read_kernel(&fd, sizeof(fd), ctx + 16);
	return fd == 1;
}

// Expected kernel verdict: accept. The same with the address of a raw
// tracepoint argument, as older tracing code reads them.
SEC("raw_tracepoint/sys_enter")
int probe_read_raw_tp_arg(struct bpf_raw_tracepoint_args *ctx)
{
	unsigned long id;

	bpf_probe_read_kernel(&id, sizeof(id), &ctx->args[1]);
	return id == 59;
}

// Expected kernel verdict: accept. A stack address as the source of
// bpf_probe_read_kernel_str.
SEC("kprobe/do_sys_openat2")
int probe_read_stack_src(struct pt_regs *ctx)
{
	char a[16] = "abc", b[16];

	bpf_probe_read_kernel_str(b, sizeof(b), a);
	return b[0];
}

// Expected kernel verdict: accept. libbpf-bootstrap's bootstrap.bpf.c
// reads a tracepoint's __data_loc string so: the source is the context
// pointer plus an offset read from the context.
SEC("tp/sched/sched_process_exec")
int probe_read_str_data_loc(void *ctx)
{
	char comm[16];
	unsigned int loc = *(unsigned int *)(ctx + 8);

	bpf_probe_read_str(comm, sizeof(comm), ctx + (loc & 0xffff));
	return comm[0];
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, long);
	__uint(max_entries, 64);
} counts SEC(".maps");

// Expected kernel verdict: accept. A loop counting down a 32-bit counter,
// as Linux samples/bpf map_perf_test's stress programs do. Compiled for
// -mcpu=v1 or v2 (clang's default before v3), clang zero-extends a copy of
// the counter with two shifts and tests the copy: `r7 += -1; r1 = r7;
// r1 <<= 32; r1 >>= 32; if r1 != 0 goto loop`. With v3 and later it tests
// w7 itself, which bpfhost bounds.
SEC("xdp")
int countdown_zext(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index;
	long one = 1;

	for (int i = 0; i < 10; i++) {
		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
		if (bpf_map_lookup_elem(&counts, &key))
			bpf_map_delete_elem(&counts, &key);
	}
	return XDP_PASS;
}

// Expected kernel verdict: accept. The same counting up with an int
// counter: `r7 += 1; r1 = r7; r1 <<= 32; r1 >>= 32; if r1 == 20 goto out`.
SEC("xdp")
int countup_zext(struct xdp_md *ctx)
{
	long sum = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 20; i++) {
		__u32 key = i;
		long *v = bpf_map_lookup_elem(&counts, &key);

		if (v)
			sum += *v;
	}
	return sum & 1;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
