// SPDX-License-Identifier: MIT
// Packet parsing shared by the examples: Ethernet, up to two VLAN tags,
// IPv4 (any header length) or IPv6, then TCP or UDP ports.
#pragma once

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <linux/pkt_cls.h>

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct flow {
	__u8 family;   // 4 or 6; 0 when not IP
	__u8 proto;    // IP protocol / IPv6 next header
	__u16 vlan;    // innermost VLAN id, 0 when untagged
	__be16 sport;  // 0 unless TCP or UDP
	__be16 dport;
	__be32 saddr4; // IPv4 addresses; IPv6 ones below
	__be32 daddr4;
	__u8 saddr6[16];
	__u8 daddr6[16];
};

// parse_flow fills f and returns 0, or -1 when the packet is truncated.
static __always_inline int parse_flow(void *data, void *data_end, struct flow *f)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__be16 proto = eth->h_proto;
	void *cursor = eth + 1;

#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		struct vlan_hdr *vh = cursor;
		if ((void *)(vh + 1) > data_end)
			return -1;
		f->vlan = bpf_ntohs(vh->tci) & 0x0fff;
		proto = vh->encap_proto;
		cursor = vh + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cursor;
		if ((void *)(ip + 1) > data_end)
			return -1;
		if (ip->ihl < 5)
			return -1;
		f->family = 4;
		f->proto = ip->protocol;
		f->saddr4 = ip->saddr;
		f->daddr4 = ip->daddr;
		cursor = (void *)ip + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor;
		if ((void *)(ip6 + 1) > data_end)
			return -1;
		f->family = 6;
		f->proto = ip6->nexthdr;
		__builtin_memcpy(f->saddr6, &ip6->saddr, 16);
		__builtin_memcpy(f->daddr6, &ip6->daddr, 16);
		cursor = ip6 + 1;
	} else {
		return 0;
	}

	if (f->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = cursor;
		if ((void *)(tcp + 1) > data_end)
			return -1;
		f->sport = tcp->source;
		f->dport = tcp->dest;
	} else if (f->proto == IPPROTO_UDP) {
		struct udphdr *udp = cursor;
		if ((void *)(udp + 1) > data_end)
			return -1;
		f->sport = udp->source;
		f->dport = udp->dest;
	}
	return 0;
}
