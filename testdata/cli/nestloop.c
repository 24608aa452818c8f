// SPDX-License-Identifier: MIT
// Nested bpf_loop of 2^23 x 2^23 empty callbacks: far past any deadline, so
// `run --timeout` must stop it (issue 9, F7b).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

static long inner(__u64 i, void *ctx) { return 0; }

static long outer(__u64 i, void *ctx)
{
	bpf_loop(1 << 23, inner, 0, 0);
	return 0;
}

SEC("xdp")
int nestloop(struct xdp_md *ctx)
{
	bpf_loop(1 << 23, outer, 0, 0);
	return XDP_PASS;
}
