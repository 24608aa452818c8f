// refs.c: maps that hold other objects, for the daemon's tests of their
// persistence: a program array, an array and a hash of maps, a devmap and
// a cpumap with entry programs. entry tail-calls jmp[0]; without a target it copies the value of
// the map outer[0] holds into result and passes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_map inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u64);
	__array(values, struct inner_map);
} houter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} result SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} devs SEC(".maps");

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *v;
	void *in;

	bpf_tail_call(ctx, &jmp, 0);
	in = bpf_map_lookup_elem(&outer, &zero);
	if (!in)
		return XDP_ABORTED;
	v = bpf_map_lookup_elem(in, &zero);
	if (!v)
		return XDP_ABORTED;
	bpf_map_update_elem(&result, &zero, v, BPF_ANY);
	return XDP_PASS;
}

SEC("xdp")
int to_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int to_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

SEC("xdp/devmap")
int egress(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp/cpumap")
int on_cpu(struct xdp_md *ctx)
{
	return XDP_PASS;
}

// lookup_houter keeps houter and cpus in the object (a map no program
// uses is still created; this one makes them referenced too).
SEC("xdp")
int lookup_houter(struct xdp_md *ctx)
{
	__u64 k = 1;
	__u32 zero = 0;

	if (!bpf_map_lookup_elem(&houter, &k))
		return XDP_DROP;
	return bpf_redirect_map(&cpus, zero, 0);
}

char LICENSE[] SEC("license") = "GPL";
