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

// Frames seen, by rx_queue_index (xdp_queues).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} queues SEC(".maps");

// CPUs xdp_cpumap_entry hands frames to, with an entry program
// (struct bpf_cpumap_val: bpfhost takes a program ID for the fd).
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
	__uint(max_entries, 4);
} cpus_prog SEC(".maps");

// Where xdp_redirect_prog and xdp_broadcast_prog send frames, with
// entry programs (struct bpf_devmap_val: bpfhost takes a program ID).
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
	__uint(max_entries, 64);
} ports_prog SEC(".maps");

// count_in adds one to seen[k]. Workers (and CPUs) run programs at once: if
// another created the entry between the lookup and the insert, the insert
// fails and the frame is added to that entry instead of being lost.
static __always_inline void count_in(__u32 k)
{
	__u64 one = 1, *n = bpf_map_lookup_elem(&seen, &k);
	if (!n && bpf_map_update_elem(&seen, &k, &one, BPF_NOEXIST) == 0)
		return;
	if (!n)
		n = bpf_map_lookup_elem(&seen, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline void count(struct xdp_md *ctx)
{
	count_in(ctx->ingress_ifindex);
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	count(ctx);
	return XDP_PASS;
}

// xdp_queues counts frames by receive queue and passes them.
SEC("xdp")
int xdp_queues(struct xdp_md *ctx)
{
	__u32 k = ctx->rx_queue_index;
	__u64 *n = bpf_map_lookup_elem(&queues, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
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

// xdp_cpumap_entry hands each frame to CPU 1 of cpus_prog (dropping it
// while there is no entry).
SEC("xdp")
int xdp_cpumap_entry(struct xdp_md *ctx)
{
	return bpf_redirect_map(&cpus_prog, 1, XDP_DROP);
}

// xdp_cpu_filter is a cpumap entry program: it counts the frames it sees
// and drops UDP datagrams to port 9 (discard); the rest go on to the stack.
SEC("xdp/cpumap")
int xdp_cpu_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);

	count(ctx);
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP) && ip->ihl == 5 && ip->protocol == IPPROTO_UDP &&
	    udp->dest == bpf_htons(9))
		return XDP_DROP;
	return XDP_PASS;
}

// xdp_redirect_prog sends each frame where ports_prog says for its ingress
// interface; frames without an entry pass.
SEC("xdp")
int xdp_redirect_prog(struct xdp_md *ctx)
{
	return bpf_redirect_map(&ports_prog, ctx->ingress_ifindex, XDP_PASS);
}

// xdp_broadcast_prog sends each frame to every interface in ports_prog but
// the one it came in on.
SEC("xdp")
int xdp_broadcast_prog(struct xdp_md *ctx)
{
	return bpf_redirect_map(&ports_prog, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
}

// xdp_dev_rewrite is a devmap entry program: it counts frames by
// egress_ifindex in seen, drops UDP datagrams to port 9 and moves those to
// port 9001 to port 9002 (clearing the optional IPv4 UDP checksum).
SEC("xdp/devmap")
int xdp_dev_rewrite(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);

	count_in(ctx->egress_ifindex);
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	if (udp->dest == bpf_htons(9))
		return XDP_DROP;
	if (udp->dest == bpf_htons(9001)) {
		udp->dest = bpf_htons(9002);
		udp->check = 0;
	}
	return XDP_PASS;
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

// tail_delta holds the delta grow_tail passes to bpf_xdp_adjust_tail.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s32);
} tail_delta SEC(".maps");

// grow_tail moves the frame's end by tail_delta[0]: XDP_PASS if the
// helper took it, XDP_DROP if it refused.
SEC("xdp")
int grow_tail(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__s32 *d = bpf_map_lookup_elem(&tail_delta, &zero);

	if (!d)
		return XDP_ABORTED;
	return bpf_xdp_adjust_tail(ctx, *d) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
