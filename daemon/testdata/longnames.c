// longnames.c: a map and a program whose names are longer than the 15
// characters the kernel keeps of a name (BPF_OBJ_NAME_LEN): bpftool shows the
// map's cut, the program's whole (from BTF).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} a_very_long_map_name_indeed SEC(".maps");
SEC("xdp")
int a_very_long_program_name(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&a_very_long_map_name_indeed, &k);
	if (v) __sync_fetch_and_add(v, 1);
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
