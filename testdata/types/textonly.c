// An object whose only code is a global function in .text, as libraries of
// functions and some test objects are: no section names a program, so the
// function is verified by name with a type (--program FUNC --type xdp).
#include <linux/bpf.h>

__attribute__((noinline)) int text_len(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;

	if (data + 1 > end)
		return XDP_DROP;
	return data[0] == 0xff ? XDP_DROP : XDP_PASS;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
