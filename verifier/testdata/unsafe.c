// SPDX-License-Identifier: MIT
// Programs the verifier must reject. Each REJECT comment names the message
// the first finding must contain; the finding must be on that line.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} table SEC(".maps");

struct big {
	__u64 slots[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct big);
	__uint(max_entries, 1);
} arr SEC(".maps");

SEC("xdp")
int off_by_one(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	if (data + 14 > end)
		return XDP_PASS;
	return data[14]; // REJECT: packet read of 1 byte at offset 14: only 14 bytes proven
}

SEC("xdp")
int no_null_check(struct xdp_md *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&table, &k);
	return *v & 1; // REJECT: may be NULL: it comes from bpf_map_lookup_elem
}

SEC("xdp")
int loop_from_packet(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	if (data + 4 > end)
		return XDP_PASS;
	__u32 n = *(volatile __u32 *)data;
	__u32 acc = 0;
	for (__u32 i = 0; i != n; i++)
		acc ^= bpf_get_prandom_u32(); // REJECT: loop may not terminate
	return acc & 3;
}

// Loads of unwritten stack give unknown numbers (decision 0018), but an
// atomic operation on unwritten bytes stays an error.
SEC("xdp")
int uninit_stack(struct xdp_md *ctx)
{
	__u64 v;
	if (ctx->rx_queue_index)
		v = 1;
	return __sync_fetch_and_add(&v, 1); // REJECT: uninitialised stack read of 8 bytes at r10
}

SEC("xdp")
int map_index(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct big *b = bpf_map_lookup_elem(&arr, &k);
	if (!b)
		return XDP_PASS;
	__u32 i = ctx->rx_queue_index;
	return b->slots[i] & 1; // REJECT: outside the 64-byte map arr value
}

SEC("xdp")
int stack_index(struct xdp_md *ctx)
{
	volatile __u64 buf[4] = {1, 2, 3, 4};
	__u32 i = ctx->rx_queue_index;
	return buf[i] & 1; // REJECT: outside the 512-byte frame
}

SEC("tc")
int ro_ctx(struct __sk_buff *skb)
{
	skb->len = 0; // REJECT: write to read-only context field __sk_buff.len
	return TC_ACT_OK;
}

SEC("xdp")
int return_pointer(struct xdp_md *ctx)
{
	return (long)ctx; // REJECT: r0 is a pointer (ctx): the program must return a number
}

SEC("xdp")
int after_adjust(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	if (data + 20 > end)
		return XDP_PASS;
	bpf_xdp_adjust_head(ctx, 4);
	return data[0]; // REJECT: invalidated by the helper call
}

SEC("xdp")
int two_pointers(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&table, &k);
	if (!v)
		return XDP_PASS;
	long x = (long)v + (long)&k; // REJECT: arithmetic between two pointers
	bpf_map_update_elem(&table, &k, &x, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
