// bpf_fib_lookup as xdp-forward calls it, with the parameters and flags
// taken from the map "in" and the result and the parameters after the
// call written to the map "out", so that a test can ask bpfhost and the
// kernel the same questions.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct query {
	struct bpf_fib_lookup params;
	__u32 flags;
	__u32 plen;
};

struct answer {
	struct bpf_fib_lookup params;
	__s64 ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct query);
} in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct answer);
} out SEC(".maps");

SEC("xdp")
int fib_query(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct query *q = bpf_map_lookup_elem(&in, &key);
	struct answer *a = bpf_map_lookup_elem(&out, &key);

	__u32 plen;

	if (!q || !a)
		return XDP_ABORTED;
	plen = q->plen & 63; /* 0: the whole struct */
	if (!plen)
		plen = sizeof(a->params);
	a->params = q->params;
	a->ret = bpf_fib_lookup(ctx, &a->params, plen, q->flags);
	return a->ret == BPF_FIB_LKUP_RET_SUCCESS ? XDP_TX : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
