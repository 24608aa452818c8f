// share_b.c: an object whose maps are made another's (share_a.c) at load.
#define K 100
#include "share.h"

struct inner_map inner_b SEC(".maps");

OUTER = {
	.values = { [1] = &inner_b },
};

SEC("xdp")
int leaf_b(struct xdp_md *ctx)
{
	return XDP_TX;
}

JMP = {
	.values = { [2] = (void *)&leaf_b },
};

SEC("xdp")
int entry_b(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key;
	__u64 *v;
	void *in;

	if (data + 1 > data_end)
		return XDP_ABORTED;
	key = *(__u8 *)data;

	__sync_fetch_and_add(&runs, 1);
	bpf_tail_call(ctx, &jmp, key);
	in = bpf_map_lookup_elem(&outer, &key);
	if (!in)
		return XDP_ABORTED;
	key = 0;
	v = bpf_map_lookup_elem(in, &key);
	if (!v)
		return XDP_ABORTED;
	return *v + k;
}
