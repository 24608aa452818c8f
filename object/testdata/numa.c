// numa.c places BTF-defined maps on a NUMA node, as Linux's
// samples/bpf/map_perf_test.bpf.c does: libbpf reads __uint(numa_node, N),
// the reader under package object refused it as an unrecognized field.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, long);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NUMA_NODE);
	__uint(numa_node, 1);
} on_node SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(numa_node, 0);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps");

SEC("xdp")
int numa_maps(struct xdp_md *ctx)
{
	__u32 key = 0;
	long *v = bpf_map_lookup_elem(&on_node, &key);
	void *inner = bpf_map_lookup_elem(&outer, &key);

	if (v)
		*v += 1;
	if (inner) {
		__u64 *c = bpf_map_lookup_elem(inner, &key);
		if (c)
			*c += 1;
	}
	return XDP_PASS;
}
