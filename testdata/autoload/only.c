// An object whose only program is in a "?" section: loading the object
// loads nothing unless the program is named.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("?xdp")
int only_opt(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
