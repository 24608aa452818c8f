// SPDX-License-Identifier: MIT
// Every atomic operation on map values, 32- and 64-bit, with and without
// fetching the old value; the fetched values are folded into another slot.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct vals {
	__u64 add, or_, and_, xor_, xchg, cmpxchg, fetched;
	__u32 add32, or32, and32, xor32, xchg32, cmpxchg32;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct vals);
	__uint(max_entries, 1);
} a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct vals);
	__uint(max_entries, 8);
} h SEC(".maps");

static __always_inline void ops(struct vals *v, __u64 x)
{
	__u64 f = 0;
	__sync_fetch_and_add(&v->add, x);
	f += __sync_fetch_and_add(&v->add, 1);
	__sync_fetch_and_or(&v->or_, x);
	f += __sync_fetch_and_or(&v->or_, x << 3);
	__sync_fetch_and_and(&v->and_, ~x);
	f += __sync_fetch_and_and(&v->and_, x | 0xff00);
	__sync_fetch_and_xor(&v->xor_, x);
	f += __sync_fetch_and_xor(&v->xor_, x >> 1);
	f += __sync_lock_test_and_set(&v->xchg, x);
	f += __sync_val_compare_and_swap(&v->cmpxchg, v->cmpxchg, x);
	f += __sync_val_compare_and_swap(&v->cmpxchg, 12345, x + 1); // fails unless equal

	__u32 y = (__u32)x;
	__sync_fetch_and_add(&v->add32, y);
	f += __sync_fetch_and_add(&v->add32, 7);
	__sync_fetch_and_or(&v->or32, y);
	f += __sync_fetch_and_or(&v->or32, y << 1);
	__sync_fetch_and_and(&v->and32, ~y);
	f += __sync_fetch_and_and(&v->and32, y | 0xf0);
	__sync_fetch_and_xor(&v->xor32, y);
	f += __sync_fetch_and_xor(&v->xor32, y >> 2);
	f += __sync_lock_test_and_set(&v->xchg32, y);
	f += __sync_val_compare_and_swap(&v->cmpxchg32, v->cmpxchg32, y);
	v->fetched += f;
}

SEC("xdp")
int xdp_atomics(struct xdp_md *ctx)
{
	__u64 x = (__u64)(ctx->data_end - ctx->data) * 0x0101010101ULL + 0x55;
	__u32 zero = 0, k = (ctx->data_end - ctx->data) & 7;
	struct vals *v = bpf_map_lookup_elem(&a, &zero);
	if (v)
		ops(v, x);
	struct vals init = {.and_ = ~0ULL, .and32 = ~0U, .cmpxchg = 12345};
	bpf_map_update_elem(&h, &k, &init, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&h, &k);
	if (v)
		ops(v, x);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
