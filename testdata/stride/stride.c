// Loops that step a pointer through an array in .rodata (as libbpf-tools'
// tcpconnect walks filter_ports[]): clang keeps p = &ports[0] and adds the
// element size on each trip. The verifier must bound p by the loop's trip
// count (verifier/strideptr.go): in bounds for the lengths that keep the
// reads inside ports[], refused for the others. The tests set len.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_PORTS 8

const volatile __u32 len = 0;
const volatile __u32 ports[MAX_PORTS] = {};

static __always_inline int first_word(struct xdp_md *ctx, __u32 *w)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 *p = data;

	if ((void *)(p + 2) > end)
		return -1;
	*w = p[0];
	return p[1];
}

// scan_capped: the tcpconnect shape, a length from the frame capped by
// MAX_PORTS: always in bounds.
SEC("xdp")
int scan_capped(struct xdp_md *ctx)
{
	__u32 w;
	int n = first_word(ctx, &w);

	if (n < 0)
		return XDP_ABORTED;
	for (__u32 i = 0; i < (__u32)n && i < MAX_PORTS; i++)
		if (ports[i] == w)
			return XDP_DROP;
	return XDP_PASS;
}

// scan_past runs to i == len, one element more than scan: in bounds
// only for len < MAX_PORTS.
SEC("xdp")
int scan_past(struct xdp_md *ctx)
{
	__u32 w;

	if (first_word(ctx, &w) < 0)
		return XDP_ABORTED;
	const volatile __u32 *p = ports;

	for (__u32 i = 0; i <= len; i++, p++)
		if (*p == w)
			return XDP_DROP;
	return XDP_PASS;
}

// scan_even reads every other element: in bounds only for len <= 4.
SEC("xdp")
int scan_even(struct xdp_md *ctx)
{
	__u32 w;

	if (first_word(ctx, &w) < 0)
		return XDP_ABORTED;
	const volatile __u32 *p = ports;

	for (__u32 i = 0; i < len; i++, p += 2)
		if (*p == w)
			return XDP_DROP;
	return XDP_PASS;
}

// scan_unbounded takes its length from the frame with no cap: never
// in bounds.
SEC("xdp")
int scan_unbounded(struct xdp_md *ctx)
{
	__u32 w;
	int n = first_word(ctx, &w);

	if (n < 0)
		return XDP_ABORTED;
	for (__u32 i = 0; i < (__u32)n; i++)
		if (ports[i] == w)
			return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
