// bpf_printk with more than three arguments compiles to
// bpf_trace_vprintk (helper 177), as xdp-tools' feature probe does.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int printk_four(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;

	bpf_printk("len %u queue %u ifindex %u meta %d", len, ctx->rx_queue_index,
		   ctx->ingress_ifindex, (int)(ctx->data - ctx->data_meta));
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
