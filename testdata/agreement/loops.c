// SPDX-License-Identifier: MIT
// Bounded loops, bpf_loop and BPF-to-BPF calls: a checksum over the packet
// bytes three ways, stored in global data across runs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 sum_loop = 0, sum_bpf_loop = 0, sum_calls = 0, runs = 0;

// bpf_loop callbacks cannot use packet pointers, so the walk runs over a
// copy of the first bytes on the stack.
struct walk {
	__u8 buf[128];
	__u32 n;
	__u64 acc;
};

static int step(__u32 i, struct walk *w)
{
	if (i >= w->n)
		return 1; // stop
	w->acc = w->acc * 31 + w->buf[i & 127];
	return 0;
}

__attribute__((noinline)) static __u64 mix(__u64 a, __u64 b)
{
	return (a ^ (b << 7)) * 0x9e3779b97f4a7c15ULL + (b >> 3);
}

__attribute__((noinline)) static __u64 mix3(__u64 a, __u64 b, __u64 c)
{
	return mix(mix(a, b), c);
}

SEC("xdp")
int xdp_loops(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	struct walk w = {};
	__u64 acc = 0;
	for (int i = 0; i < 128; i++) {
		if ((void *)(data + i + 1) > (void *)end)
			break;
		acc = acc * 31 + data[i];
		w.buf[i] = data[i];
		w.n = i + 1;
	}
	sum_loop += acc;

	bpf_loop(128, step, &w, 0);
	sum_bpf_loop += w.acc;

	sum_calls = mix3(sum_calls, acc, w.acc);
	runs++;
	return acc == w.acc ? XDP_PASS : XDP_ABORTED;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
