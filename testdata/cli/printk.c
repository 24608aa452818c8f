// SPDX-License-Identifier: MIT
// Prints one line per packet with bpf_printk (bpf_trace_printk).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_printk(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;
	__u8 first = 0;
	if (data + 1 <= data_end)
		first = *(__u8 *)data;
	bpf_printk("packet of %u bytes, first byte %x", len, first);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
