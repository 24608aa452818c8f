// bpf_check_mtu as XDP forwarders call it, with its arguments taken from
// the map "in" and the result and *mtu_len written to the map "out", so
// that a test can ask bpfhost and the kernel the same questions.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct query {
	__u32 ifindex;
	__u32 mtu_len;
	__s32 len_diff;
	__u32 flags;
};

struct answer {
	__s64 ret;
	__u32 mtu_len;
	__u32 pad;
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
int mtu_query(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct query *q = bpf_map_lookup_elem(&in, &key);
	struct answer *a = bpf_map_lookup_elem(&out, &key);

	if (!q || !a)
		return XDP_ABORTED;
	a->mtu_len = q->mtu_len;
	a->ret = bpf_check_mtu(ctx, q->ifindex, &a->mtu_len, q->len_diff, q->flags);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
