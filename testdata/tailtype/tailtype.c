// Programs of two types around one program array: a tail call keeps the
// caller's context, so the array holds one type only (tailowner_test.go).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_PASS;
}

SEC("xdp")
int xdp_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

// victim reads __sk_buff's packet pointers and writes the packet: run on
// an xdp_md, they would come from past its end.
SEC("tc")
int victim(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;

	if (data + 8 > end)
		return 7;
	*(volatile __u64 *)data = 0x4141414141414141ULL;
	return 8;
}

SEC("tc")
int tc_entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
