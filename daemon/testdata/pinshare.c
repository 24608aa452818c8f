// pinshare.c: a program array and an array of maps pinned by name
// (LIBBPF_PIN_BY_NAME), each with a static slot, for a second load that
// reuses the pinned maps: libbpf fills the reused program array's slot
// again (with the second load's program) and leaves the reused map of
// maps alone. ps_entry tail-calls ps_jmp[0], else returns the value of
// the map ps_outer[0] holds.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_map ps_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct inner_map);
} ps_outer SEC(".maps") = {
	.values = { [0] = &ps_inner },
};

SEC("xdp")
int ps_leaf(struct xdp_md *ctx)
{
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, int(void *));
} ps_jmp SEC(".maps") = {
	.values = { [0] = (void *)&ps_leaf },
};

SEC("xdp")
int ps_entry(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *v;
	void *in;

	bpf_tail_call(ctx, &ps_jmp, 0);
	in = bpf_map_lookup_elem(&ps_outer, &zero);
	if (!in)
		return XDP_ABORTED;
	v = bpf_map_lookup_elem(in, &zero);
	if (!v)
		return XDP_ABORTED;
	return *v;
}

char LICENSE[] SEC("license") = "GPL";
