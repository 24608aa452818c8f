// mapsonly.c: an object of maps and no programs, which "prog loadall ...
// pinmaps DIR" loads for its maps alone, as bpftool does.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} shared_counts SEC(".maps");

__u64 config = 5;

char LICENSE[] SEC("license") = "GPL";
