// Multi-buffer XDP (xdp.frags sections): the frame's length and bytes
// through bpf_xdp_get_buff_len, bpf_xdp_load_bytes and bpf_xdp_store_bytes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp.frags")
int frags_bytes(struct xdp_md *ctx)
{
	__u8 buf[16] = {};
	__u64 len = bpf_xdp_get_buff_len(ctx);

	if (len < sizeof(buf))
		return XDP_DROP;
	if (bpf_xdp_load_bytes(ctx, len - sizeof(buf), buf, sizeof(buf)))
		return XDP_ABORTED;
	buf[0] ^= 0xff;
	if (bpf_xdp_store_bytes(ctx, 0, buf, sizeof(buf)))
		return XDP_ABORTED;
	return XDP_PASS;
}

SEC("xdp.frags/devmap")
int frags_devmap(struct xdp_md *ctx)
{
	return bpf_xdp_get_buff_len(ctx) > 1500 ? XDP_DROP : XDP_PASS;
}

SEC("xdp.frags/cpumap")
int frags_cpumap(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
