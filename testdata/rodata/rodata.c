// Programs whose verdict depends on the values of const volatile globals in
// .rodata, which the loader freezes and the verifier reads as constants (as
// libbpf-tools' tcpconnect loops over filter_ports[] up to
// filter_ports_len). The tests set the constants before loading.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_PORTS 8

const volatile __u32 ports_len = 0;
const volatile __u16 ports[MAX_PORTS] = {};

// port_filter drops a frame whose first two bytes are one of ports[0] to
// ports[ports_len-1]. Only a known ports_len of at most MAX_PORTS bounds
// both the loop and the reads of ports[i].
SEC("xdp")
int port_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u16 *p = data;

	if ((void *)(p + 1) > end)
		return XDP_ABORTED;
	__u16 port = *p;
	for (__u32 i = 0; i < ports_len; i++)
		if (ports[i] == port)
			return XDP_DROP;
	return XDP_PASS;
}

// last_port drops a frame whose first two bytes are ports[ports_len-1]:
// the read is in bounds only for a known ports_len of 1 to MAX_PORTS.
SEC("xdp")
int last_port(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u16 *p = data;
	__u32 n = ports_len;

	if ((void *)(p + 1) > end)
		return XDP_ABORTED;
	if (n == 0)
		return XDP_PASS;
	return ports[n - 1] == *p ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
