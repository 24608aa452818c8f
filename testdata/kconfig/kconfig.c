/* Programs whose verdict depends on the kernel they load into, as
 * libbpf-tools programs do, through extern __kconfig values (filled from the
 * kernel's version and config, then known to the verifier as constants, as
 * Linux knows a frozen read-only map's bytes). In each, the path the values
 * rule out reads the packet unchecked, which no verifier accepts. The
 * CO-RE programs are in oracle.c. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern __u32 LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_BPFHOST_TEST_FEATURE __kconfig __weak;
extern char CONFIG_BPFHOST_TEST_TRISTATE __kconfig __weak;

/* On kernels before 4.0 (as a zero LINUX_KERNEL_VERSION would say), reads
 * the packet without a bounds check. */
SEC("xdp")
int by_version(struct xdp_md *ctx)
{
	if (LINUX_KERNEL_VERSION < KERNEL_VERSION(4, 0, 0))
		return *(volatile __u8 *)(long)ctx->data;
	return XDP_PASS;
}

/* Without the (made-up) feature, reads the packet without a bounds check;
 * the test gives CONFIG_BPFHOST_TEST_FEATURE=7 in a config file. */
SEC("xdp")
int by_config(struct xdp_md *ctx)
{
	if (CONFIG_BPFHOST_TEST_FEATURE != 7)
		return *(volatile __u8 *)(long)ctx->data;
	return XDP_PASS;
}

/* A tristate reads as 'y', 'm' or 'n' (0 when unset). */
SEC("xdp")
int by_tristate(struct xdp_md *ctx)
{
	if (CONFIG_BPFHOST_TEST_TRISTATE != 'm')
		return *(volatile __u8 *)(long)ctx->data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
