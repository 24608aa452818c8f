// libxdp's AF_XDP program for kernels before 5.4 (xsk_def_xdp_prog_5.3):
// a lookup in an xskmap returns the socket (struct bpf_xdp_sock, or NULL)
// and the program redirects only where there is one.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int xsk_lookup(struct xdp_md *ctx)
{
	__u32 index = ctx->rx_queue_index;
	struct bpf_xdp_sock *sk = bpf_map_lookup_elem(&xsks, &index);

	if (sk && sk->queue_id == index)
		return bpf_redirect_map(&xsks, index, 0);
	return XDP_PASS;
}

// xsk_past_field reads past bpf_xdp_sock's only field: refused.
SEC("xdp")
int xsk_past_field(struct xdp_md *ctx)
{
	__u32 index = 0;
	__u32 *sk = bpf_map_lookup_elem(&xsks, &index);

	if (sk)
		return sk[1];
	return XDP_PASS;
}

// xsk_write writes to the socket: refused.
SEC("xdp")
int xsk_write(struct xdp_md *ctx)
{
	__u32 index = 0;
	__u32 *sk = bpf_map_lookup_elem(&xsks, &index);

	if (sk)
		*sk = 1;
	return XDP_PASS;
}

// xsk_unchecked reads without a NULL check: refused.
SEC("xdp")
int xsk_unchecked(struct xdp_md *ctx)
{
	__u32 index = 0;
	struct bpf_xdp_sock *sk = bpf_map_lookup_elem(&xsks, &index);

	return sk->queue_id;
}

char _license[] SEC("license") = "GPL";
