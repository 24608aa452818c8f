// SPDX-License-Identifier: MIT
// Per-program selection: xdp_entry tail-calls xdp_leaf through a program
// array; xdp_unsafe reads past the packet and is rejected by any verifier.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_leaf(struct xdp_md *ctx)
{
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int(void *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&xdp_leaf },
};

SEC("xdp")
int xdp_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jumps, 1);
	return XDP_PASS;
}

SEC("xdp")
int xdp_unsafe(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	return *(volatile __u8 *)(data + 100); // no bounds check
}

char LICENSE[] SEC("license") = "GPL";
