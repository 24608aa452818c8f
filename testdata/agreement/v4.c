// SPDX-License-Identifier: MIT
// ISA v4 arithmetic (compile with -mcpu=v4): signed division and modulo,
// sign-extending moves and loads, byte swaps; results go to a map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __s64);
	__uint(max_entries, 16);
} out SEC(".maps");

static __always_inline void put(__u32 k, __s64 v)
{
	bpf_map_update_elem(&out, &k, &v, BPF_ANY);
}

SEC("xdp")
int xdp_v4(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	if ((void *)(data + 16) > (void *)end)
		return XDP_PASS;
	__s64 a = (__s64)(*(__s32 *)(data + 2)) - 0x7fff0000;
	__s64 b = (*(__s8 *)(data + 6)) | 1;
	__s32 c = *(__s16 *)(data + 8);
	__s32 d = (*(__s8 *)(data + 10)) | 3;
	put(0, a / b);
	put(1, a % b);
	put(2, c / d);
	put(3, c % d);
	put(4, (__s64)(__s8)a + (__s64)(__s16)b + (__s64)(__s32)(a >> 7));
	put(5, __builtin_bswap16(a) + __builtin_bswap32(b) + __builtin_bswap64(a ^ b));
	put(6, (__s64)*(__s8 *)(data + 11) * (__s64)*(__s16 *)(data + 12));
	put(7, (a < 0) ? -a / 3 : a / 3);
	return a / b > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
