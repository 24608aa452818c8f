// A program array whose static contents name a program of a "?" section:
// libbpf cannot fill the slot unless that program's autoload is turned on,
// and the object does not load.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("?xdp")
int tail(struct xdp_md *ctx)
{
	return XDP_DROP;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp SEC(".maps") = {
	.values = { [0] = (void *)&tail },
};

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
