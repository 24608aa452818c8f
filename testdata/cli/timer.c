// SPDX-License-Identifier: GPL-2.0
// A map whose value holds a bpf_timer: the timer helpers take exactly its
// address (tc_timer_init), not another place in the value (tc_timer_wrong).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define CLOCK_MONOTONIC 1

struct elem {
	__u64 hits;
	struct bpf_timer t;
	__u64 last;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct elem);
} timers SEC(".maps");

SEC("tc")
int tc_timer_init(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);
	if (!e)
		return TC_ACT_OK;
	bpf_timer_init(&e->t, &timers, CLOCK_MONOTONIC);
	return TC_ACT_OK;
}

SEC("tc")
int tc_timer_wrong(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);
	if (!e)
		return TC_ACT_OK;
	bpf_timer_init((struct bpf_timer *)&e->hits, &timers, CLOCK_MONOTONIC);
	return TC_ACT_OK;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);
	if (e)
		e->hits++;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
