// SPDX-License-Identifier: MIT
// ISA v4 (compile with -mcpu=v4): sign extension, signed division, bswap.
#include "common.h"

__s64 out[4] = {};

SEC("xdp")
int v4_ops(struct xdp_md *ctx)
{
	__s8 *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if ((void *)(data + 8) > end)
		return XDP_PASS;
	__s64 a = data[1];
	__s64 b = *(__s16 *)(data + 2) | 1;
	out[0] = a / b;
	out[1] = a % b;
	out[2] = __builtin_bswap32(*(__u32 *)(data + 4));
	out[3] = (__s32)(a * 77) >> 3;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
