/* Reads of stack bytes a program has not written, which Linux allows
 * privileged loaders (allow_uninit_stack): a load gives an unknown number,
 * a helper may read a partly written buffer, in the entry function and in
 * subprograms. Katran-style load balancers (test_xdp_noinline.c,
 * test_l4lb_noinline.c) fill a flow key in part and look it up from a
 * subprogram; test_cls_redirect.c and test_tunnel_kern.c load fields of
 * structs they filled in part. bpfhost zeroes the frames such programs
 * read (docs/decisions/0018-unwritten-stack.md). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow {
	__u32 src, dst;
	__u16 port16[2];
	__u8 proto;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct flow);
	__type(value, __u32);
} flows SEC(".maps");

/* A load of a field the program never wrote, in the entry function. */
SEC("xdp")
int load_entry(struct xdp_md *ctx)
{
	volatile struct flow f;

	f.src = ctx->rx_queue_index;
	return f.dst & 1 ? XDP_DROP : XDP_PASS;
}

static __attribute__((noinline)) int sum_unwritten(__u32 n)
{
	volatile __u32 v[4];

	v[0] = n;
	return (v[0] + v[2]) & 1;
}

/* The same load in a subprogram's frame. */
SEC("xdp")
int load_subprog(struct xdp_md *ctx)
{
	return sum_unwritten(ctx->rx_queue_index) ? XDP_DROP : XDP_PASS;
}

static __attribute__((noinline)) int lookup_partial(__u32 src, __u32 dst)
{
	struct flow f;
	__u32 *v;

	f.src = src;
	f.dst = dst;
	f.proto = 6;
	v = bpf_map_lookup_elem(&flows, &f);
	return v ? *v & 1 : 0;
}

/* A flow key filled in part (ports and padding unwritten) looked up from
 * a subprogram: the helper reads unwritten bytes of a deeper frame. */
SEC("xdp")
int helper_subprog(struct xdp_md *ctx)
{
	return lookup_partial(ctx->rx_queue_index, ctx->ingress_ifindex) ? XDP_DROP : XDP_PASS;
}

/* A load at a variable offset in a buffer written in part. */
SEC("xdp")
int load_var_off(struct xdp_md *ctx)
{
	volatile __u8 buf[16];
	__u32 i = ctx->rx_queue_index & 15;

	buf[0] = 1;
	return buf[i] & 1 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
