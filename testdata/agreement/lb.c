// SPDX-License-Identifier: MIT
// A toy XDP load balancer: rewrites the destination of IPv4 TCP/UDP packets
// to a backend chosen by an LRU flow table, fixes the IP checksum with
// bpf_csum_diff, swaps MAC addresses and returns XDP_TX.
#include "parse.h"

struct flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u32 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct flow_key);
	__type(value, __u32); // backend index
	__uint(max_entries, 64);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __be32); // backend address
	__uint(max_entries, 4);
} backends SEC(".maps");

__u32 next_backend = 0;

static __always_inline __u16 fold(__u32 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return ~csum;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5)
		return XDP_PASS;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	struct udphdr *l4 = (void *)(ip + 1); // ports sit at the same place in TCP
	if ((void *)(l4 + 1) > data_end)
		return XDP_PASS;

	struct flow_key key = {ip->saddr, ip->daddr, l4->source, l4->dest, ip->protocol};
	__u32 *be = bpf_map_lookup_elem(&flows, &key);
	__u32 idx;
	if (be) {
		idx = *be;
	} else {
		idx = __sync_fetch_and_add(&next_backend, 1) % 4;
		bpf_map_update_elem(&flows, &key, &idx, BPF_ANY);
	}
	__be32 *addr = bpf_map_lookup_elem(&backends, &idx);
	if (!addr || !*addr)
		return XDP_ABORTED;

	__be32 old = ip->daddr;
	__be32 new = *addr;
	__s64 diff = bpf_csum_diff(&old, 4, &new, 4, ~((__u32)ip->check) & 0xffff);
	if (diff < 0)
		return XDP_ABORTED;
	ip->daddr = new;
	ip->check = fold((__u32)diff);

	unsigned char tmp[ETH_ALEN];
	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
