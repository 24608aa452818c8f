// Programs in sections that libbpf 1.x does not name: one its older prefix
// rule types ("xdp_ttl"), one libbpf's current rules type ("classifier"),
// and two that only their loader (tc) types ("from-netdev", "tail-3").
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define SEC(name) __attribute__((section(name), used))

SEC("xdp_ttl")
int xdp_ttl_prog(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;

	if (data + 23 > end)
		return XDP_PASS;
	return data[22] > 1 ? XDP_PASS : XDP_DROP;
}

SEC("classifier")
int cls_main(struct __sk_buff *skb)
{
	return skb->len > 64 ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("from-netdev")
int from_netdev(struct __sk_buff *skb)
{
	skb->mark = 7;
	return TC_ACT_OK;
}

SEC("tail-3")
int tail_three(struct __sk_buff *skb)
{
	return skb->protocol == 0x0008 ? TC_ACT_OK : TC_ACT_UNSPEC;
}

char _license[] SEC("license") = "GPL";
