// BTF map definitions that name their types through typedefs and
// qualifiers where C allows: a typedef'd (and const) inner map in
// 'values', a typedef'd map struct, a typedef'd __uint field.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, int);
} inner_t;

typedef const inner_t const_inner_t;

inner_t inner1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, int);
	__array(values, const_inner_t);
} outer SEC(".maps") = { .values = { [1] = &inner1 } };

typedef int (*hash_type_t)[BPF_MAP_TYPE_HASH];
typedef struct {
	hash_type_t type;
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hash_t;
typedef hash_t hash2_t;
hash2_t counts SEC(".maps");

SEC("xdp") int prog(struct xdp_md *ctx)
{
	int k = 0;
	__u32 k2 = 0;
	void *m = bpf_map_lookup_elem(&outer, &k);

	if (m && bpf_map_lookup_elem(m, &k))
		return XDP_DROP;
	if (bpf_map_lookup_elem(&counts, &k2))
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
