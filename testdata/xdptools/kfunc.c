// XDP RX metadata kfuncs (xdp-hints): the driver's timestamp and hash of
// the frame. Linux accepts their calls only in programs bound to a device
// (BPF_F_XDP_DEV_BOUND_ONLY with an interface); bpfhost has no driver
// behind a frame.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// Linux's enum (include/net/xdp.h), which this libc's headers lack.
enum xdp_rss_hash_type { XDP_RSS_TYPE_NONE = 0 };

extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym;
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash,
				    enum xdp_rss_hash_type *rss_type) __ksym;

SEC("xdp")
int rx_metadata(struct xdp_md *ctx)
{
	__u64 ts = 0;
	__u32 hash = 0;
	enum xdp_rss_hash_type type;

	if (bpf_xdp_metadata_rx_timestamp(ctx, &ts) == 0 && ts == 0)
		return XDP_DROP;
	if (bpf_xdp_metadata_rx_hash(ctx, &hash, &type) == 0 && hash == 0)
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
