// pinnames.c: an object whose map and program names are not file names
// ("..", "a/b": assembler labels allow any symbol), as a crafted object
// may have them; the daemon refuses to pin them under a directory
// (pinmaps, "prog loadall"), where they would land elsewhere (at "/" for
// ".." under "/x").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} up __asm__("..") SEC(".maps");

SEC("xdp")
int count(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&up, &k);

	if (v)
		*v += 1;
	return XDP_PASS;
}

SEC("xdp")
int slashed(struct xdp_md *ctx) __asm__("a/b");

SEC("xdp")
int slashed(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
