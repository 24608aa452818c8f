// Programs of the types whose test runs are not a packet with an xdp_md or
// an __sk_buff: a flow dissector, a raw tracepoint, a syscall program and
// an sk_lookup program. Each records what it saw in a map, so that the
// agreement test compares the context the kernel and bpfhost give it.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define READ(x) (*(volatile typeof(x) *)&(x))

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void record(__u32 k, __u64 v)
{
	bpf_map_update_elem(&seen, &k, &v, BPF_ANY);
}

// flow_dissect parses Ethernet, IPv4 or IPv6 and the TCP/UDP ports into
// flow_keys, as the kernel's own BPF flow dissector does in outline.
SEC("flow_dissector")
int flow_dissect(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct bpf_flow_keys *keys = skb->flow_keys;
	__u8 buf[4];

	record(0, keys->nhoff | (__u64)keys->thoff << 16 | (__u64)keys->n_proto << 32);
	record(1, keys->flags);
	record(2, (__u64)bpf_skb_load_bytes(skb, 0, buf, sizeof(buf)));
	record(3, buf[0] | buf[1] | buf[2] | buf[3]);

	void *nh = data + ETH_HLEN;
	__u8 proto;
	__u32 thoff;
	if (keys->n_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = nh;
		if ((void *)(ip + 1) > data_end)
			return BPF_DROP;
		keys->addr_proto = ETH_P_IP;
		keys->ipv4_src = ip->saddr;
		keys->ipv4_dst = ip->daddr;
		keys->ip_proto = proto = ip->protocol;
		thoff = ETH_HLEN + ip->ihl * 4;
		if (ip->frag_off & bpf_htons(0x3fff))
			keys->is_frag = 1;
	} else if (keys->n_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = nh;
		if ((void *)(ip6 + 1) > data_end)
			return BPF_DROP;
		keys->addr_proto = ETH_P_IPV6;
		__builtin_memcpy(keys->ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(keys->ipv6_dst, &ip6->daddr, 16);
		keys->ip_proto = proto = ip6->nexthdr;
		keys->flow_label = *(__be32 *)ip6 & bpf_htonl(0xfffff);
		thoff = ETH_HLEN + sizeof(*ip6);
	} else {
		// A wild offset: the test run clamps it to the frame.
		keys->nhoff = 9000;
		keys->thoff = 3;
		return BPF_OK;
	}
	keys->thoff = thoff;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		__be16 *ports = data + thoff;
		if ((void *)(ports + 2) > data_end)
			return BPF_DROP;
		keys->sport = ports[0];
		keys->dport = ports[1];
	}
	return BPF_OK;
}

// rawtp adds up its arguments (as many as the test run's context holds,
// here 3) and returns the low 32 bits of the first.
SEC("raw_tp/sys_enter")
int rawtp(__u64 *ctx)
{
	record(4, ctx[0] + ctx[1] * 3 + ctx[2] * 7);
	return (int)ctx[0];
}

struct syscall_args {
	__u32 in;
	__u32 out;
	__u64 sum;
};

// sys reads its context, writes results into it and returns in + 1.
SEC("syscall")
int sys(struct syscall_args *args)
{
	__u32 k = 5;
	__u64 *v = bpf_map_lookup_elem(&seen, &k);
	if (v)
		*v += args->in;
	args->out = args->in * 2;
	args->sum += args->in;
	return args->in + 1;
}

// lookup records the fields of bpf_sk_lookup and passes port 80 only.
SEC("sk_lookup")
int lookup(struct bpf_sk_lookup *ctx)
{
	// One load per field: clang would merge neighbours into 8-byte
	// loads, which Linux refuses in bpf_sk_lookup.
	__u32 family = READ(ctx->family), protocol = READ(ctx->protocol);
	__u32 remote4 = READ(ctx->remote_ip4), local4 = READ(ctx->local_ip4);
	__u32 remote6 = READ(ctx->remote_ip6[0]) ^ READ(ctx->remote_ip6[3]);
	__u32 local6 = READ(ctx->local_ip6[0]) ^ READ(ctx->local_ip6[3]);
	__u32 rport = READ(ctx->remote_port), lport = READ(ctx->local_port);
	__u32 ifindex = READ(ctx->ingress_ifindex);
	struct bpf_sock *sk = ctx->sk;

	record(6, family + ((__u64)protocol << 32));
	record(7, remote4 + ((__u64)local4 << 32));
	record(8, remote6 + ((__u64)local6 << 32));
	record(9, rport + ((__u64)lport << 32));
	record(10, ifindex + ((__u64)(sk != 0) << 32));
	return ctx->local_port == 80 ? SK_PASS : SK_DROP;
}

// frags is an XDP multi-buffer program: it records the linear length and
// the whole length, reads 4 bytes at an offset and writes 4 at another
// (both from the packet, so that inputs choose linear or fragment bytes),
// then moves the tail by the signed 16-bit delta in bytes 18..19.
SEC("xdp.frags")
int frags(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	__u32 word = 0, mark = 0xfeedf00d;

	if ((void *)(p + 20) > data_end)
		return XDP_ABORTED;
	__u16 loadAt = p[14] | p[15] << 8;
	__u16 storeAt = p[16] | p[17] << 8;
	__s16 delta = (__s16)(p[18] | p[19] << 8);

	record(11, (__u64)(data_end - data) | (__u64)bpf_xdp_get_buff_len(ctx) << 32);
	long r = bpf_xdp_load_bytes(ctx, loadAt, &word, sizeof(word));
	record(12, word | (__u64)(__u32)r << 32);
	r = bpf_xdp_store_bytes(ctx, storeAt, &mark, sizeof(mark));
	record(13, (__u32)r);
	r = bpf_xdp_adjust_tail(ctx, delta);
	record(14, (__u32)r | (__u64)bpf_xdp_get_buff_len(ctx) << 32);
	return XDP_PASS;
}
