// Programs whose attach target is another BPF program, chosen at load
// time (libbpf's bpf_program__set_attach_target): libxdp loads a
// dispatcher component as freplace of the dispatcher's prog0, xdpdump
// traces an XDP program's entry with fentry/fexit. The section names no
// kernel function ("func" is xdpdump's placeholder).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("freplace/prog0")
int replace_prog0(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data > 100 ? XDP_DROP : XDP_PASS;
}

SEC("fentry/func")
int BPF_PROG(trace_entry, struct xdp_md *xdp)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
