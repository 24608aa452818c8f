// SPDX-License-Identifier: MIT
// An XDP firewall: drops packets whose IPv4 or IPv6 source lies in a
// longest-prefix-match blocklist, counts drops per matching rule, and counts
// packets and bytes per IP protocol in a per-CPU array.
#include "parse.h"

struct lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

// Blocklists map a prefix to a rule number.
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4);
	__type(value, __u32);
	__uint(max_entries, 1024);
} blocklist_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6);
	__type(value, __u32);
	__uint(max_entries, 1024);
} blocklist_v6 SEC(".maps");

// Drops per rule number.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
} drops SEC(".maps");

struct counters {
	__u64 packets;
	__u64 bytes;
};

// Traffic per IP protocol number; index 255 counts non-IP frames.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct counters);
	__uint(max_entries, 256);
} proto_stats SEC(".maps");

// count_drop adds one to drops[rule]. Programs run on several CPUs (or
// bpfhost workers) at once: if another created the entry between the
// lookup and the insert, the insert fails and the drop is added to that
// entry instead of being lost.
static __always_inline void count_drop(__u32 *rule)
{
	__u64 one = 1;
	__u64 *n = bpf_map_lookup_elem(&drops, rule);
	if (!n && bpf_map_update_elem(&drops, rule, &one, BPF_NOEXIST) == 0)
		return;
	if (!n)
		n = bpf_map_lookup_elem(&drops, rule);
	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow f = {};

	if (parse_flow(data, data_end, &f) < 0)
		return XDP_DROP;

	__u32 *rule = 0;
	if (f.family == 4) {
		struct lpm_v4 key = {.prefixlen = 32};
		__builtin_memcpy(key.addr, &f.saddr4, 4);
		rule = bpf_map_lookup_elem(&blocklist_v4, &key);
	} else if (f.family == 6) {
		struct lpm_v6 key = {.prefixlen = 128};
		__builtin_memcpy(key.addr, f.saddr6, 16);
		rule = bpf_map_lookup_elem(&blocklist_v6, &key);
	}
	if (rule) {
		count_drop(rule);
		return XDP_DROP;
	}

	__u32 idx = f.family ? f.proto : 255;
	struct counters *c = bpf_map_lookup_elem(&proto_stats, &idx);
	if (c) {
		c->packets++;
		c->bytes += data_end - data;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
