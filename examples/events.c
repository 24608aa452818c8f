// SPDX-License-Identifier: MIT
// A ring-buffer event exporter: one record per IP packet with its flow,
// length and arrival time; a counter of records that did not fit.
#include "parse.h"

struct event {
	__u64 timestamp_ns;
	__u32 length;
	__u16 vlan;
	__u8 family;
	__u8 proto;
	__be16 sport;
	__be16 dport;
	__u8 saddr[16]; // IPv4 addresses in the first 4 bytes
	__u8 daddr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

__u64 lost = 0;

SEC("xdp")
int xdp_events(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow f = {};

	if (parse_flow(data, data_end, &f) < 0 || f.family == 0)
		return XDP_PASS;

	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return XDP_PASS;
	}
	e->timestamp_ns = bpf_ktime_get_ns();
	e->length = data_end - data;
	e->vlan = f.vlan;
	e->family = f.family;
	e->proto = f.proto;
	e->sport = f.sport;
	e->dport = f.dport;
	if (f.family == 4) {
		__builtin_memset(e->saddr, 0, sizeof(e->saddr));
		__builtin_memset(e->daddr, 0, sizeof(e->daddr));
		__builtin_memcpy(e->saddr, &f.saddr4, 4);
		__builtin_memcpy(e->daddr, &f.daddr4, 4);
	} else {
		__builtin_memcpy(e->saddr, f.saddr6, 16);
		__builtin_memcpy(e->daddr, f.daddr6, 16);
	}
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
