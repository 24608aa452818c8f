// SPDX-License-Identifier: MIT
// A tail-call dispatcher: the entry program parses the packet and tail-calls
// the handler for its IP protocol through a statically initialised program
// array. Handlers count what they see in global data.
#include "parse.h"

__u64 handled[3] = {}; // tcp, udp, icmp
__u64 fallthrough = 0;

SEC("xdp")
int handle_tcp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow f = {};
	__sync_fetch_and_add(&handled[0], 1);
	if (parse_flow(data, data_end, &f) < 0)
		return XDP_ABORTED;
	return f.dport == bpf_htons(23) ? XDP_DROP : XDP_PASS; // no telnet
}

SEC("xdp")
int handle_udp(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&handled[1], 1);
	return XDP_PASS;
}

SEC("xdp")
int handle_icmp(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&handled[2], 1);
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__array(values, int(void *));
} jump_table SEC(".maps") = {
	.values = {
		[IPPROTO_ICMP] = (void *)&handle_icmp,
		[IPPROTO_TCP] = (void *)&handle_tcp,
		[IPPROTO_UDP] = (void *)&handle_udp,
	},
};

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow f = {};

	if (parse_flow(data, data_end, &f) < 0)
		return XDP_DROP;
	if (f.family == 4)
		bpf_tail_call(ctx, &jump_table, f.proto);
	// Not IPv4, or no handler for the protocol.
	__sync_fetch_and_add(&fallthrough, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
