// weak.c declares __kconfig externs weak, as programs do for options a
// kernel may lack: libbpf leaves a missing weak extern zero and loads the
// object. The reader under package object refused the weak ones.
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPFHOST_MISSING __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;

SEC("xdp")
int weak_kconfig(struct xdp_md *ctx)
{
	if (CONFIG_BPFHOST_MISSING)
		return XDP_ABORTED;
	if (CONFIG_HZ > 1000)
		return XDP_DROP;
	return LINUX_KERNEL_VERSION > 0 ? XDP_PASS : XDP_TX;
}
