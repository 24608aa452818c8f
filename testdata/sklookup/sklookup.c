// SPDX-License-Identifier: MIT
// A tc classifier that looks up the socket a packet is for, as a
// socket-aware firewall does: the TCP connection or listener, or the UDP
// socket, named by the packet's IPv4 or IPv6 tuple (bpf_sk_lookup_tcp/_udp), and
// the TCP socket's common part (bpf_skc_lookup_tcp). Each run records what
// it found in seen[run]; the verdict says whether a socket was found. An
// XDP program makes the same lookups.
// Tuples of a size Linux does not look up, and an all-zero IPv6 tuple, find
// nothing.
#include "parse.h"

struct found {
	__u32 lookups;     // bit 0: sk_lookup, 1: skc_lookup, 2: bad size, 3: v6
	__u32 family;
	__u32 type;
	__u32 protocol;
	__u32 mark;
	__u32 priority;
	__u32 src_ip4;
	__u32 src_port;
	__u32 dst_ip4;
	__u32 dst_port;     // read whole: the port and the padding after it
	__u16 dst_port16;   // read as Linux's __be16
	__u8 dst_port_hi;   // its first byte
	__u8 pad;
	__u32 state;
	__s32 rx_queue_ok;  // rx_queue_mapping >= -1 (its value is the queue the
	                    // socket last received on: Linux's varies, bpfhost's is -1)
	__u32 bound_dev_if;
	__u32 src_ip6_2;
	__u32 src_ip6_3;
	__u32 dst_ip6_2;
	__u32 dst_ip6_3;
	__u32 src_ip6_0;
	__u32 dst_ip6_0;
	__u32 skc_family;
	__u32 skc_state;
	__u32 skc_src_port;
	__u32 skc_dst_port;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, struct found);
} seen SEC(".maps");

__u32 runs = 0;

// lookup records what the lookups of the packet's tuple find in seen[run]
// and returns ok if a socket was found, drop if not, -1 for other packets.
static __always_inline int lookup(void *skb, void *data, void *data_end, int ok, int drop)
{
	struct flow f = {};
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	struct found *out;
	__u32 key = runs++;
	__u32 size;
	int verdict = drop;

	out = bpf_map_lookup_elem(&seen, &key);
	if (!out)
		return -1;
	if (parse_flow(data, data_end, &f) < 0)
		return -1;
	if (f.family == 4) {
		t.ipv4.saddr = f.saddr4;
		t.ipv4.daddr = f.daddr4;
		t.ipv4.sport = f.sport;
		t.ipv4.dport = f.dport;
		size = sizeof(t.ipv4);
	} else if (f.family == 6) {
		__builtin_memcpy(t.ipv6.saddr, f.saddr6, 16);
		__builtin_memcpy(t.ipv6.daddr, f.daddr6, 16);
		t.ipv6.sport = f.sport;
		t.ipv6.dport = f.dport;
		size = sizeof(t.ipv6);
	} else {
		return -1;
	}

	if (f.proto == IPPROTO_TCP)
		sk = bpf_sk_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
	else if (f.proto == IPPROTO_UDP)
		sk = bpf_sk_lookup_udp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
	else
		return -1;
	if (sk) {
		out->lookups |= 1;
		out->family = sk->family;
		out->type = sk->type;
		out->protocol = sk->protocol;
		out->mark = sk->mark;
		out->priority = sk->priority;
		out->src_ip4 = sk->src_ip4;
		out->src_port = sk->src_port;
		out->dst_ip4 = sk->dst_ip4;
		out->dst_port = *(volatile __u32 *)&sk->dst_port;
		out->dst_port16 = sk->dst_port;
		out->dst_port_hi = *(volatile __u8 *)&sk->dst_port;
		out->state = sk->state;
		out->rx_queue_ok = sk->rx_queue_mapping >= -1;
		out->bound_dev_if = sk->bound_dev_if;
		out->src_ip6_2 = sk->src_ip6[2];
		out->src_ip6_3 = sk->src_ip6[3];
		out->dst_ip6_2 = sk->dst_ip6[2];
		out->dst_ip6_3 = sk->dst_ip6[3];
		out->src_ip6_0 = sk->src_ip6[0];
		out->dst_ip6_0 = sk->dst_ip6[0];
		bpf_sk_release(sk);
		verdict = ok;
	}
	if (f.proto == IPPROTO_TCP) {
		struct bpf_sock *skc = bpf_skc_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
		if (skc) {
			out->lookups |= 2;
			out->skc_family = skc->family;
			out->skc_state = skc->state;
			out->skc_src_port = skc->src_port;
			out->skc_dst_port = skc->dst_port;
			bpf_sk_release(skc);
		}
	}
	// A tuple of neither size, and an IPv6 tuple nobody is bound to.
	sk = bpf_sk_lookup_tcp(skb, &t, size + 1, BPF_F_CURRENT_NETNS, 0);
	if (sk) {
		out->lookups |= 4;
		bpf_sk_release(sk);
	}
	struct bpf_sock_tuple t6 = {};
	t6.ipv6.dport = f.dport;
	sk = bpf_sk_lookup_udp(skb, &t6, sizeof(t6.ipv6), BPF_F_CURRENT_NETNS, 0);
	if (sk) {
		out->lookups |= 8;
		bpf_sk_release(sk);
	}
	return verdict;
}

SEC("tc")
int tc_sklookup(struct __sk_buff *skb)
{
	return lookup(skb, (void *)(long)skb->data, (void *)(long)skb->data_end, TC_ACT_OK, TC_ACT_SHOT);
}

SEC("xdp")
int xdp_sklookup(struct xdp_md *xdp)
{
	int v = lookup(xdp, (void *)(long)xdp->data, (void *)(long)xdp->data_end, XDP_PASS, XDP_DROP);
	return v < 0 ? XDP_ABORTED : v;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
