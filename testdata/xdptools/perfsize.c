// A perf event array declared without key and value sizes, as xdpdump
// declares its own: libbpf and cilium/ebpf give both 4 bytes (the
// kernel's only sizes for it), so the object loads.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
} events SEC(".maps");

SEC("xdp")
int perf_no_sizes(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &len, sizeof(len));
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
