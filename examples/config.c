// SPDX-License-Identifier: MIT
// A program configured through const volatile globals, which a loader sets
// before loading (bpfhost: object.Spec.SetConstant; libbpf: skeleton rodata).
// It drops TCP or UDP packets to one port, samples every Nth packet into a
// counter, and keeps its statistics in .bss and .data.
#include "parse.h"

const volatile __u16 blocked_port = 23;   // host byte order
const volatile __u32 sample_every = 2;    // 0 disables sampling
const volatile __u32 verdict_on_match = XDP_DROP;

__u64 seen = 0;            // .bss
__u64 matched = 0;         // .bss
__u64 sampled = 0;         // .bss
__u32 last_len = 0xffffffff; // .data

SEC("xdp")
int xdp_config(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow f = {};

	__u64 n = __sync_fetch_and_add(&seen, 1) + 1;
	last_len = data_end - data;
	if (sample_every && n % sample_every == 0)
		__sync_fetch_and_add(&sampled, 1);
	if (parse_flow(data, data_end, &f) < 0)
		return XDP_DROP;
	if (f.dport && f.dport == bpf_htons(blocked_port)) {
		__sync_fetch_and_add(&matched, 1);
		return verdict_on_match;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
