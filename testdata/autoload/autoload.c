// Programs in sections whose names begin with "?" (SEC("?xdp")): libbpf
// gives them the type of the name after the "?" and does not load them
// unless asked (bpf_program__set_autoload). xdp_unsafe is refused by every
// verifier, so the object loads only while it stays unloaded.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static void count(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	count(0);
	return XDP_PASS;
}

SEC("?xdp")
int xdp_drop(struct xdp_md *ctx)
{
	count(1);
	return XDP_DROP;
}

SEC("?tc")
int tc_shot(struct __sk_buff *skb)
{
	count(2);
	return 2; /* TC_ACT_SHOT */
}

SEC("?xdp")
int xdp_unsafe(struct xdp_md *ctx)
{
	/* No check against data_end. */
	return *(__u8 *)(long)ctx->data;
}

char _license[] SEC("license") = "GPL";
