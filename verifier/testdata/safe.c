// SPDX-License-Identifier: MIT
// Programs the verifier must accept.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jumps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 128);
} backends SEC(".maps");

const volatile __u32 threshold = 10;
__u64 total = 0;

static __always_inline void bump(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
}

// VLAN, IPv4 with any header length, IPv6, TCP and UDP.
SEC("xdp")
int parse_all(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__u16 proto = eth->h_proto;
	void *cur = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr *vh = cur;
		if ((void *)(vh + 1) > end)
			return XDP_DROP;
		proto = vh->encap_proto;
		cur = vh + 1;
	}
	__u8 l4 = 0;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cur;
		if ((void *)(ip + 1) > end)
			return XDP_DROP;
		__u32 hl = ip->ihl * 4;
		if (hl < sizeof(*ip))
			return XDP_DROP;
		l4 = ip->protocol;
		cur = (void *)ip + hl;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cur;
		if ((void *)(ip6 + 1) > end)
			return XDP_DROP;
		l4 = ip6->nexthdr;
		cur = ip6 + 1;
	} else {
		return XDP_PASS;
	}
	if (l4 == IPPROTO_TCP) {
		struct tcphdr *tcp = cur;
		if ((void *)(tcp + 1) > end)
			return XDP_DROP;
		bump(bpf_ntohs(tcp->dest) & 63);
	} else if (l4 == IPPROTO_UDP) {
		struct udphdr *udp = cur;
		if ((void *)(udp + 1) > end)
			return XDP_DROP;
		bump(bpf_ntohs(udp->dest) & 63);
	}
	return XDP_PASS;
}

// A bounded loop over the TCP options, at variable packet offsets: the
// header length comes from the packet, each option's length too.
SEC("xdp")
int tcp_options(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	__u32 hl = ip->ihl * 4;
	if (hl < sizeof(*ip))
		return XDP_DROP;
	struct tcphdr *tcp = (void *)ip + hl;
	if ((void *)(tcp + 1) > end)
		return XDP_DROP;
	__u32 optlen = tcp->doff * 4;
	if (optlen < sizeof(*tcp))
		return XDP_DROP;
	__u8 *opt = (__u8 *)(tcp + 1);
	__u8 *opt_end = (__u8 *)tcp + optlen;
	__u32 mss = 0;
	for (int i = 0; i < 10; i++) {
		if ((void *)(opt + 1) > end || opt >= opt_end)
			break;
		__u8 kind = opt[0];
		if (kind == 0)
			break;
		if (kind == 1) {
			opt++;
			continue;
		}
		if ((void *)(opt + 2) > end)
			break;
		__u8 len = opt[1];
		if (len < 2)
			break;
		if (kind == 2 && len == 4 && (void *)(opt + 4) <= end)
			mss = (opt[2] << 8) | opt[3];
		opt += len;
	}
	return mss > 1400 ? XDP_DROP : XDP_PASS;
}

static long loop_step(__u32 i, void *arg)
{
	__u64 *acc = arg;
	*acc += i;
	return *acc > 1000;
}

// Bounded loops and bpf_loop.
SEC("xdp")
int loops(struct xdp_md *ctx)
{
	__u64 acc = 0;
	__u8 buf[32] = {};
	for (int i = 0; i < 32; i++)
		buf[i] = i * 3;
	for (int i = 0; i < 32; i += 4)
		acc += buf[i];
	bpf_loop(100, loop_step, &acc, 0);
	__sync_fetch_and_add(&total, acc);
	return XDP_PASS;
}

// Tail calls and a hash map update.
SEC("xdp")
int tail(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index & 3;
	__u64 one = 1;
	bpf_map_update_elem(&backends, &key, &one, BPF_ANY);
	bpf_tail_call(ctx, &jumps, key);
	return XDP_PASS;
}

// Global data, read-only configuration and atomics.
SEC("xdp")
int globals(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__sync_fetch_and_add(&total, len);
	__u64 old = __sync_val_compare_and_swap(&total, 5, 6);
	return len > threshold && old ? XDP_PASS : XDP_DROP;
}

// A socket filter with legacy packet loads.
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

SEC("socket")
int sock_legacy(struct __sk_buff *skb)
{
	if (load_half(skb, 12) != ETH_P_IP)
		return 0;
	if (load_byte(skb, 23) != IPPROTO_UDP)
		return 0;
	return skb->len;
}

// A TC program writing packet bytes and __sk_buff fields.
SEC("tc")
int tc_rewrite(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return TC_ACT_OK;
	eth->h_dest[0] ^= 2;
	skb->mark = eth->h_proto;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
