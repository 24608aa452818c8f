// The first program of the object (in ELF order, the one "bpftool prog
// load" pins) is in a "?" section: libbpf does not load it, and bpftool
// fails to pin it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("?xdp")
int opt(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int always(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
