// pinbyname.c: a map pinned by name (LIBBPF_PIN_BY_NAME) whose name is
// not a file name ("../escaped", an assembler label): pinned by name it
// would land outside /sys/fs/bpf, which the daemon refuses.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} escaped __asm__("../escaped") SEC(".maps");

SEC("xdp")
int count(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&escaped, &k);

	if (v)
		*v += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
