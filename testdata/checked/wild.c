// SPDX-License-Identifier: MIT
// Programs the verifier rejects, loaded unverified to test checked runs:
// each takes an address or an index from the packet, so that some inputs
// stay inside the memory the run may reach and others point anywhere.
// Checked runs on every engine must end them with the same fault, or the
// same result, and never touch anything else.
#include "../../examples/parse.h"

struct value {
	__u64 slots[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct value);
	__uint(max_entries, 4);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct value);
	__uint(max_entries, 2);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct value);
	__uint(max_entries, 16);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

// word returns the i-th 64-bit word of the packet, or 0 past its end.
static __always_inline __u64 word(struct xdp_md *ctx, int i)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	if (data + 8 * (i + 1) > end)
		return 0;
	return *(__u64 *)(data + 8 * i);
}

SEC("xdp")
int wild_store(struct xdp_md *ctx)
{
	*(volatile __u64 *)word(ctx, 0) = 0x4141414141414141;
	return XDP_PASS;
}

SEC("xdp")
int wild_load(struct xdp_md *ctx)
{
	return *(volatile __u32 *)word(ctx, 0) & 3;
}

SEC("xdp")
int wild_atomic(struct xdp_md *ctx)
{
	__sync_fetch_and_add((__u64 *)word(ctx, 0), 1);
	return XDP_PASS;
}

// packet_offset reads and writes the packet at an offset from the packet.
SEC("xdp")
int packet_offset(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__s32 off = (__s32)word(ctx, 0);
	data[off] ^= 1;
	return data[off] & 3;
}

// Array values indexed past their end: the JIT looks these maps up inline.
SEC("xdp")
int array_index(struct xdp_md *ctx)
{
	__u32 k = word(ctx, 1) & 7;
	struct value *v = bpf_map_lookup_elem(&arr, &k);
	__u64 i = word(ctx, 0);
	if (!v)
		return XDP_ABORTED;
	v->slots[i] += 1;
	return v->slots[i] & 3;
}

SEC("xdp")
int percpu_index(struct xdp_md *ctx)
{
	__u32 k = word(ctx, 1) & 3;
	struct value *v = bpf_map_lookup_elem(&pcpu, &k);
	__u64 i = word(ctx, 0);
	if (!v)
		return XDP_ABORTED;
	v->slots[i] += 1;
	return v->slots[i] & 3;
}

SEC("xdp")
int hash_index(struct xdp_md *ctx)
{
	__u32 k = word(ctx, 1) & 3;
	struct value zero = {};
	bpf_map_update_elem(&hash, &k, &zero, BPF_NOEXIST);
	struct value *v = bpf_map_lookup_elem(&hash, &k);
	__u64 i = word(ctx, 0);
	if (!v)
		return XDP_ABORTED;
	v->slots[i] += 1;
	return v->slots[i] & 3;
}

// A missing hash key gives NULL, which the program uses anyway.
SEC("xdp")
int hash_null(struct xdp_md *ctx)
{
	__u32 k = word(ctx, 1) & 31;
	struct value *v = bpf_map_lookup_elem(&hash, &k);
	return v->slots[0] & 3;
}

// Helpers given wild memory arguments.
SEC("xdp")
int lookup_wild_key(struct xdp_md *ctx)
{
	struct value *v = bpf_map_lookup_elem(&arr, (void *)word(ctx, 0));
	return v ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int hash_wild_key(struct xdp_md *ctx)
{
	struct value *v = bpf_map_lookup_elem(&hash, (void *)word(ctx, 0));
	return v ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int update_wild_value(struct xdp_md *ctx)
{
	__u32 k = 1;
	return bpf_map_update_elem(&arr, &k, (void *)word(ctx, 0), BPF_ANY) ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int probe_read_wild_dst(struct xdp_md *ctx)
{
	__u64 v = 7;
	return bpf_probe_read_kernel((void *)word(ctx, 0), 8, &v) ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int ringbuf_wild_data(struct xdp_md *ctx)
{
	return bpf_ringbuf_output(&rb, (void *)word(ctx, 0), 8, 0) ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int stack_index(struct xdp_md *ctx)
{
	volatile __u64 buf[4] = {1, 2, 3, 4};
	__u64 i = word(ctx, 0);
	buf[i] = 5;
	return buf[i & 3] & 3;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
