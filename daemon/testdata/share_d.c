// share_d.c: share.h's maps in another order: the program array before the
// map of maps, so that a load whose map of maps cannot be filled (its
// inner map replaced by another object's map of maps) fails after the
// reused program array took this object's static slot: the daemon must
// give the reused array its own slots back.
#define K 1
#include "share.h"

SEC("xdp")
int leaf_d(struct xdp_md *ctx)
{
	return XDP_PASS;
}

JMP = {
	.values = { [1] = (void *)&leaf_d },
};

struct inner_map inner_d SEC(".maps");

OUTER = {
	.values = { [0] = &inner_d },
};

SEC("xdp")
int entry_d(struct xdp_md *ctx)
{
	__u32 zero = 0;

	bpf_tail_call(ctx, &jmp, 1);
	if (!bpf_map_lookup_elem(&outer, &zero))
		return XDP_ABORTED;
	return XDP_DROP;
}
