// bloom.c: a bloom filter that a program writes, for the daemon's tests of
// its persistence. The first 4 bytes of a packet are a value; a fifth byte
// of 1 pushes it (XDP_TX), else the program passes a value the filter may
// hold and drops one it certainly does not.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 1000);
	__type(value, __u32);
	__uint(map_extra, 3);
} seen SEC(".maps");

SEC("xdp")
int bloom(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 v;

	if (data + 5 > end)
		return XDP_ABORTED;
	v = *(__u32 *)data;
	if (*(__u8 *)(data + 4) == 1) {
		bpf_map_push_elem(&seen, &v, BPF_ANY);
		return XDP_TX;
	}
	return bpf_map_peek_elem(&seen, &v) == 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
