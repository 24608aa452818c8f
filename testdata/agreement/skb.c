// SPDX-License-Identifier: MIT
// A socket filter that reads skb->protocol and packet bytes with
// bpf_skb_load_bytes and legacy loads, and a TC classifier that reads
// __sk_buff fields, marks the packet and uses direct packet access; tc_pull
// calls bpf_skb_pull_data.
#include "parse.h"

__u64 by_proto[4] = {}; // ipv4, ipv6, other, load failures

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	__u8 hdr[20];
	__u32 slot = 2;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		slot = 0;
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		slot = 1;
	__sync_fetch_and_add(&by_proto[slot], 1);
	if (bpf_skb_load_bytes(skb, 0, hdr, sizeof(hdr)) < 0) {
		__sync_fetch_and_add(&by_proto[3], 1);
		return 0;
	}
	if (slot == 0 && hdr[9] == IPPROTO_UDP)
		return skb->len; // keep UDP
	if (slot == 0)
		return 64; // truncate other IPv4
	return 0;
}

__u64 tc_seen = 0, tc_len = 0;

SEC("tc")
int tc_classify(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct flow f = {};
	tc_seen++;
	tc_len += skb->len + skb->protocol + skb->ifindex * 1000 + skb->pkt_type * 100000;
	if (parse_flow(data, data_end, &f) < 0)
		return TC_ACT_SHOT;
	skb->mark = f.proto * 1000 + f.vlan;
	skb->priority = f.family;
	skb->cb[0] = bpf_ntohs(f.dport);
	if (f.proto == IPPROTO_TCP && f.dport == bpf_htons(22))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

long pull_ret[4] = {};
__u64 pull_sum = 0;

// tc_pull makes the packet linear with bpf_skb_pull_data (all of it, its
// Ethernet header, its length, one byte past it) and reads it directly
// after each pull, which drops the bounds checked before.
SEC("tc")
int tc_pull(struct __sk_buff *skb)
{
	__u32 lens[4] = {0, 14, skb->len, skb->len + 1};

	for (int i = 0; i < 4; i++) {
		pull_ret[i] = bpf_skb_pull_data(skb, lens[i]);
		void *data = (void *)(long)skb->data;
		void *data_end = (void *)(long)skb->data_end;
		if (data + 14 <= data_end)
			pull_sum += *(__u8 *)(data + 13);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
