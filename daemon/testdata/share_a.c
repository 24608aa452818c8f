// share_a.c: maps that another object (share_b.c) reuses with "prog load
// ... map name NAME pinned PIN": a program array, an array of maps and the
// global data sections. entry_a tail-calls jmp[1] and else returns the
// value of the map outer[0] holds, plus k from .rodata.
#define K 7
#include "share.h"

struct inner_map inner SEC(".maps");

OUTER = {
	.values = { [0] = &inner },
};

SEC("xdp")
int leaf_a(struct xdp_md *ctx)
{
	return XDP_DROP;
}

JMP = {
	.values = { [0] = (void *)&leaf_a },
};

SEC("xdp")
int entry_a(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *v;
	void *in;

	__sync_fetch_and_add(&runs, 1);
	bpf_tail_call(ctx, &jmp, 1);
	in = bpf_map_lookup_elem(&outer, &zero);
	if (!in)
		return XDP_ABORTED;
	v = bpf_map_lookup_elem(in, &zero);
	if (!v)
		return XDP_ABORTED;
	return *v + k;
}
