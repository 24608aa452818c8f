// SPDX-License-Identifier: MIT
// XDP programs for the end-to-end tests of hooks/xdp.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// Frames seen, by ingress ifindex (for monitor mode and the oracle).
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
} seen SEC(".maps");

// Where xdp_redirect_dev sends a frame, by ingress ifindex.
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 64);
} ports SEC(".maps");

// CPUs xdp_cpumap hands frames to (the queue size as value).
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 2);
} cpus SEC(".maps");

static __always_inline void count(struct xdp_md *ctx)
{
	__u32 k = ctx->ingress_ifindex;
	__u64 one = 1, *n = bpf_map_lookup_elem(&seen, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&seen, &k, &one, BPF_NOEXIST);
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	count(ctx);
	return XDP_PASS;
}

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int xdp_abort(struct xdp_md *ctx)
{
	return XDP_ABORTED;
}

// xdp_udp_echo answers UDP datagrams to port 7 itself: it swaps the
// Ethernet and IP addresses and the ports and sends the frame back (the
// checksums stay valid). Everything else passes.
SEC("xdp")
int xdp_udp_echo(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP ||
	    udp->dest != bpf_htons(7))
		return XDP_PASS;
	unsigned char mac[ETH_ALEN];
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	__be32 a = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = a;
	__be16 p = udp->source;
	udp->source = udp->dest;
	udp->dest = p;
	return XDP_TX;
}

// xdp_redirect_dev sends each frame where ports says for its ingress
// interface; frames without an entry pass.
SEC("xdp")
int xdp_redirect_dev(struct xdp_md *ctx)
{
	count(ctx);
	return bpf_redirect_map(&ports, ctx->ingress_ifindex, XDP_PASS);
}

// xdp_broadcast sends each frame to every interface in ports but the one
// it came in on.
SEC("xdp")
int xdp_broadcast(struct xdp_md *ctx)
{
	return bpf_redirect_map(&ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
}

// xdp_cpumap hands each frame to CPU 0 (the stack, beyond bpfhost: the peer),
// or drops it while cpus has no entry for CPU 0.
SEC("xdp")
int xdp_cpumap(struct xdp_md *ctx)
{
	return bpf_redirect_map(&cpus, 0, XDP_DROP);
}

// xdp_encap wraps IPv4 frames in an outer IPv4 header (IP in IP) with
// bpf_xdp_adjust_head, marks them with 4 bytes of metadata
// (bpf_xdp_adjust_meta) it checks before passing, and appends a 4-byte
// trailer (bpf_xdp_adjust_tail).
SEC("xdp")
int xdp_encap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *inner = data + sizeof(*eth);

	if ((void *)(inner + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct ethhdr e = *eth;
	struct iphdr outer = *inner;
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	if ((void *)(ip + 1) > data_end)
		return XDP_ABORTED;
	*eth = e;
	outer.ihl = 5;
	outer.protocol = IPPROTO_IPIP;
	outer.tot_len = bpf_htons(bpf_ntohs(outer.tot_len) + sizeof(struct iphdr));
	outer.check = 0;
	__u32 sum = 0;
	__u16 *w = (__u16 *)&outer;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	outer.check = ~sum;
	*ip = outer;

	if (bpf_xdp_adjust_meta(ctx, -4))
		return XDP_ABORTED;
	void *meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if (meta + 4 > data)
		return XDP_ABORTED;
	*(__u32 *)meta = 0x600df00d;

	if (bpf_xdp_adjust_tail(ctx, 4))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	meta = (void *)(long)ctx->data_meta;
	if (meta + 4 > data || data + 18 > data_end)
		return XDP_ABORTED;
	if (*(__u32 *)meta != 0x600df00d)
		return XDP_ABORTED;
	__u32 len = data_end - data;
	if (len < 18 || len > 4000)
		return XDP_ABORTED;
	unsigned char *t = data + (len - 4);
	if ((void *)(t + 4) > data_end)
		return XDP_ABORTED;
	t[0] = 0xde;
	t[1] = 0xad;
	t[2] = 0xbe;
	t[3] = 0xef;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
